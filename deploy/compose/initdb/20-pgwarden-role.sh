#!/bin/sh
# Runs once, after 10-seed.sql, when the Postgres container initialises an empty volume.
# Creates the least-privilege roles pgwarden uses (the same recipe as SECURITY.md):
#   pgwarden_read     NOLOGIN: SELECT on schema app only; the role policies SET LOCAL ROLE to.
#   pgwarden_gateway  LOGIN:   what pgwarden connects as; no privileges of its own (NOINHERIT).
# The password comes from PGWARDEN_DB_PASSWORD (compose reads it from .env).
set -eu
: "${PGWARDEN_DB_PASSWORD:?PGWARDEN_DB_PASSWORD must be set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v gw_password="$PGWARDEN_DB_PASSWORD" -v db="$POSTGRES_DB" <<'SQL'
-- Nobody but the owner may call functions unless granted: SECURITY DEFINER functions such as
-- app.lookup_key would otherwise read internal.* on behalf of any role.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA app FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE ALL ON SCHEMA internal FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

CREATE ROLE pgwarden_read NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
GRANT USAGE ON SCHEMA app TO pgwarden_read;
GRANT SELECT ON ALL TABLES IN SCHEMA app TO pgwarden_read;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO pgwarden_read;
GRANT EXECUTE ON FUNCTION app.cents_to_eur(integer) TO pgwarden_read;

CREATE ROLE pgwarden_gateway LOGIN PASSWORD :'gw_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT
  CONNECTION LIMIT 40;
GRANT pgwarden_read TO pgwarden_gateway;
GRANT CONNECT ON DATABASE :"db" TO pgwarden_gateway;
-- Backstops in case a statement ever escaped the gateway's own transaction settings.
ALTER ROLE pgwarden_gateway SET default_transaction_read_only = on;
ALTER ROLE pgwarden_gateway SET statement_timeout = '30s';
ALTER ROLE pgwarden_gateway SET idle_in_transaction_session_timeout = '60s';
SQL
