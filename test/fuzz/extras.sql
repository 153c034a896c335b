-- Extra schema objects the fuzz harness attacks (test/fuzz, docs/testing.md), loaded once on top of
-- the demo schema (src/demo/seed.sql) before the twin databases are cloned. Exposed schema: app.
-- Hidden: internal (denied by pattern) and vault (not listed at all). Search path: app, public.

-- partitions, inheritance, a view over a masked column, a domain, user types and an operator
CREATE TABLE app.readings (id int NOT NULL, region text NOT NULL, amount int NOT NULL, note text) PARTITION BY LIST (region);
CREATE TABLE app.readings_eu PARTITION OF app.readings FOR VALUES IN ('eu');
CREATE TABLE app.readings_us PARTITION OF app.readings FOR VALUES IN ('us');
INSERT INTO app.readings SELECT i, CASE WHEN i % 2 = 0 THEN 'eu' ELSE 'us' END, i * 7 % 100, 'reading ' || i FROM generate_series(1, 40) i;

CREATE TABLE app.vehicles (id int PRIMARY KEY, name text NOT NULL, vin text);
CREATE TABLE app.trucks (payload int) INHERITS (app.vehicles);
INSERT INTO app.vehicles VALUES (1, 'van', 'VIN-AAA-0001'), (2, 'car', 'VIN-BBB-0002');
INSERT INTO app.trucks VALUES (3, 'truck', 'VIN-CCC-0003', 900);

CREATE VIEW app.customer_contacts AS SELECT id, email, phone, country FROM app.customers;

CREATE DOMAIN app.cents AS integer CHECK (VALUE >= 0);
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE app.amount_pair AS (amount int, currency text);
CREATE FUNCTION app.fz_add(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2';
CREATE OPERATOR app.#+# (LEFTARG = int, RIGHTARG = int, FUNCTION = app.fz_add);

-- FK and unique key on a masked column (customers.email is masked and UNIQUE), a trigger, RLS
CREATE TABLE app.newsletter (
  id int PRIMARY KEY,
  email text NOT NULL REFERENCES app.customers(email) ON UPDATE CASCADE,
  mood app.mood NOT NULL DEFAULT 'ok',
  paid app.cents NOT NULL DEFAULT 0,
  touched int NOT NULL DEFAULT 0
);
INSERT INTO app.newsletter (id, email, mood, paid) SELECT id, email, (ARRAY['sad','ok','happy'])[1 + id % 3]::app.mood, id * 100 FROM app.customers WHERE id <= 30;
CREATE FUNCTION app.touch_newsletter() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched := OLD.touched + 1; RETURN NEW; END $$;
CREATE TRIGGER newsletter_touch BEFORE UPDATE ON app.newsletter FOR EACH ROW EXECUTE FUNCTION app.touch_newsletter();

CREATE TABLE app.tenant_notes (id int PRIMARY KEY, tenant text NOT NULL, body text NOT NULL);
INSERT INTO app.tenant_notes SELECT i, CASE WHEN i % 2 = 0 THEN 'analyst' ELSE 'other' END, 'note ' || i FROM generate_series(1, 10) i;
ALTER TABLE app.tenant_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_notes_own ON app.tenant_notes USING (tenant = current_setting('pgwarden.principal', true));

-- a hidden schema nobody lists (its names and contents differ between the twins)
CREATE SCHEMA vault;
CREATE TABLE vault.tokens (id int PRIMARY KEY, token text NOT NULL);
INSERT INTO vault.tokens VALUES (1, 'tok_A_first'), (2, 'tok_A_second');
CREATE FUNCTION vault.peek(int) RETURNS text LANGUAGE sql STABLE AS 'SELECT token FROM vault.tokens WHERE id = $1';
CREATE SEQUENCE vault.counter;
CREATE VIEW vault.token_view AS SELECT id, token FROM vault.tokens;

ANALYZE;
