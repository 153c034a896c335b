-- pgwarden demo database: a small shop with PII, deterministic so tests can rely on values.
-- Schemas:
--   app      what agents are meant to read (customers, products, orders, order_items, …)
--   internal what no agent policy should reach (secrets, staff notes)
-- Safe to run once on an empty database.

CREATE SCHEMA app;
CREATE SCHEMA internal;

CREATE TABLE app.customers (
  id          bigint PRIMARY KEY,
  full_name   text NOT NULL,
  email       text NOT NULL UNIQUE,
  phone       text,
  ssn         text,
  country     text NOT NULL,
  city        text NOT NULL,
  signed_up   timestamptz NOT NULL,
  marketing_opt_in boolean NOT NULL DEFAULT false,
  profile     jsonb NOT NULL DEFAULT '{}'::jsonb
);
COMMENT ON TABLE app.customers IS 'People who bought at least once or signed up.';
COMMENT ON COLUMN app.customers.email IS 'Login e-mail (PII).';

CREATE TABLE app.products (
  id          integer PRIMARY KEY,
  sku         text NOT NULL UNIQUE,
  name        text NOT NULL,
  category    text NOT NULL,
  price_cents integer NOT NULL CHECK (price_cents > 0),
  active      boolean NOT NULL DEFAULT true,
  tags        text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE app.orders (
  id          bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES app.customers(id),
  status      text NOT NULL CHECK (status IN ('pending','paid','shipped','delivered','cancelled','refunded')),
  placed_at   timestamptz NOT NULL,
  shipped_at  timestamptz,
  total_cents integer NOT NULL,
  shipping_address text
);
CREATE INDEX orders_customer_idx ON app.orders (customer_id);
CREATE INDEX orders_placed_idx ON app.orders (placed_at);

CREATE TABLE app.order_items (
  order_id    bigint NOT NULL REFERENCES app.orders(id),
  line_no     integer NOT NULL,
  product_id  integer NOT NULL REFERENCES app.products(id),
  quantity    integer NOT NULL CHECK (quantity > 0),
  unit_price_cents integer NOT NULL,
  PRIMARY KEY (order_id, line_no)
);

CREATE TABLE app.support_tickets (
  id          bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES app.customers(id),
  opened_at   timestamptz NOT NULL,
  closed_at   timestamptz,
  priority    text NOT NULL,
  subject     text NOT NULL,
  body        text NOT NULL
);

CREATE TABLE app.events (
  id          bigserial PRIMARY KEY,
  customer_id bigint REFERENCES app.customers(id),
  kind        text NOT NULL,
  at          timestamptz NOT NULL,
  payload     jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE internal.api_keys (
  id          integer PRIMARY KEY,
  service     text NOT NULL,
  secret      text NOT NULL
);

CREATE TABLE internal.staff_notes (
  id          integer PRIMARY KEY,
  customer_id bigint NOT NULL,
  note        text NOT NULL
);

-- A view in the readable schema that reads a denied table: must not be a side door.
CREATE VIEW app.customer_notes AS
  SELECT c.id, c.full_name, n.note
  FROM app.customers c JOIN internal.staff_notes n ON n.customer_id = c.id;

-- A harmless view over allowed tables.
CREATE VIEW app.order_totals AS
  SELECT o.customer_id, count(*) AS orders, sum(o.total_cents) AS total_cents
  FROM app.orders o GROUP BY o.customer_id;

-- A SECURITY DEFINER function that reads a denied table: must not be callable.
CREATE FUNCTION app.lookup_key(p_service text) RETURNS text
  LANGUAGE sql SECURITY DEFINER STABLE
  AS $$ SELECT secret FROM internal.api_keys WHERE service = p_service $$;

-- An ordinary user-defined function.
CREATE FUNCTION app.cents_to_eur(c integer) RETURNS numeric
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT round(c / 100.0, 2) $$;

-- Deterministic data -------------------------------------------------------------------------

INSERT INTO app.customers (id, full_name, email, phone, ssn, country, city, signed_up, marketing_opt_in, profile)
SELECT i,
       (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken','Margaret','Niklaus'])[1 + i % 10]
         || ' ' ||
       (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen','Thompson','Hamilton','Wirth'])[1 + (i / 10) % 10],
       'customer' || lpad(i::text, 4, '0') || '@' || (ARRAY['example.com','mail.test','corp.example'])[1 + i % 3],
       '+1-555-' || lpad((1000 + i * 37 % 9000)::text, 4, '0') || '-' || lpad((i * 7919 % 10000)::text, 4, '0'),
       lpad((100 + i % 800)::text, 3, '0') || '-' || lpad((10 + i % 89)::text, 2, '0') || '-' || lpad((i * 4243 % 10000)::text, 4, '0'),
       (ARRAY['US','DE','FR','GB','NL','JP','BR','CA'])[1 + i % 8],
       (ARRAY['Springfield','Berlin','Lyon','Leeds','Utrecht','Osaka','Recife','Toronto'])[1 + i % 8],
       timestamptz '2024-01-01 00:00:00+00' + (i * interval '17 hours'),
       i % 3 = 0,
       jsonb_build_object('tier', (ARRAY['bronze','silver','gold'])[1 + i % 3], 'newsletter', i % 2 = 0)
FROM generate_series(1, 200) AS g(i);

INSERT INTO app.products (id, sku, name, category, price_cents, active, tags)
SELECT i,
       'SKU-' || lpad(i::text, 5, '0'),
       (ARRAY['Widget','Gadget','Gizmo','Doohickey','Sprocket'])[1 + i % 5] || ' ' || i,
       (ARRAY['tools','toys','garden','kitchen','office'])[1 + i % 5],
       199 + (i * 347) % 9800,
       i % 11 <> 0,
       ARRAY[(ARRAY['new','sale','eco','bulk'])[1 + i % 4]]
FROM generate_series(1, 50) AS g(i);

INSERT INTO app.orders (id, customer_id, status, placed_at, shipped_at, total_cents, shipping_address)
SELECT i,
       1 + (i * 13) % 200,
       (ARRAY['pending','paid','shipped','delivered','delivered','delivered','cancelled','refunded'])[1 + i % 8],
       timestamptz '2024-03-01 00:00:00+00' + (i * interval '7 hours'),
       CASE WHEN i % 8 IN (2,3,4,5) THEN timestamptz '2024-03-02 00:00:00+00' + (i * interval '7 hours') END,
       0,
       i || ' Main Street, Apt ' || (i % 40)
FROM generate_series(1, 1000) AS g(i);

INSERT INTO app.order_items (order_id, line_no, product_id, quantity, unit_price_cents)
SELECT o.id, l.n, 1 + (o.id * 7 + l.n * 3) % 50, 1 + (o.id + l.n) % 4, p.price_cents
FROM app.orders o
CROSS JOIN generate_series(1, 3) AS l(n)
JOIN app.products p ON p.id = 1 + (o.id * 7 + l.n * 3) % 50
WHERE l.n <= 1 + o.id % 3;

UPDATE app.orders o SET total_cents = s.total
FROM (SELECT order_id, sum(quantity * unit_price_cents) AS total FROM app.order_items GROUP BY order_id) s
WHERE s.order_id = o.id;

INSERT INTO app.support_tickets (id, customer_id, opened_at, closed_at, priority, subject, body)
SELECT i, 1 + (i * 29) % 200,
       timestamptz '2024-04-01 00:00:00+00' + (i * interval '11 hours'),
       CASE WHEN i % 4 <> 0 THEN timestamptz '2024-04-02 00:00:00+00' + (i * interval '11 hours') END,
       (ARRAY['low','normal','high','urgent'])[1 + i % 4],
       (ARRAY['Late delivery','Wrong item','Refund request','Account access'])[1 + i % 4],
       'Ticket body ' || i
FROM generate_series(1, 120) AS g(i);

INSERT INTO app.events (customer_id, kind, at, payload)
SELECT 1 + (i * 17) % 200,
       (ARRAY['login','view','cart','checkout'])[1 + i % 4],
       timestamptz '2024-05-01 00:00:00+00' + (i * interval '13 minutes'),
       jsonb_build_object('path', '/p/' || (i % 50), 'ms', (i * 31) % 900)
FROM generate_series(1, 2000) AS g(i);

INSERT INTO internal.api_keys (id, service, secret) VALUES
  (1, 'payments', 'sk_live_DEMO_4f9a1c2e7b'),
  (2, 'email',    'sk_live_DEMO_88d0e3aa51');

INSERT INTO internal.staff_notes (id, customer_id, note)
SELECT i, i, 'Internal note about customer ' || i FROM generate_series(1, 20) AS g(i);

ANALYZE;
