-- Contrib extensions, loaded into the base (same OIDs in every twin) and dropped from the write twins (the write properties
-- run without them). A search-path schema (public), the exposed schema (app), a hidden schema (vault).
CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA app;
CREATE EXTENSION IF NOT EXISTS hstore SCHEMA vault;

