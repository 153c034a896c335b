-- Tables with the shapes guarded writes refuse as NOT_REVERSIBLE, created next to the demo schema
-- by the write-plan integration test. test/unit/guard/write/fixtures.ts (EXTRA_RELATIONS) mirrors
-- them for the pure run; the integration test checks the two agree.
CREATE TABLE app.audited (id integer PRIMARY KEY, note text);
CREATE FUNCTION app.audited_touch_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER audited_touch BEFORE UPDATE ON app.audited FOR EACH ROW EXECUTE FUNCTION app.audited_touch_fn();

CREATE TABLE app.ruled (id integer PRIMARY KEY, note text);
CREATE RULE ruled_log AS ON DELETE TO app.ruled DO ALSO NOTHING;

CREATE TABLE app.parents (id integer PRIMARY KEY);
CREATE TABLE app.children (id integer PRIMARY KEY, parent_id integer REFERENCES app.parents (id) ON DELETE CASCADE ON UPDATE CASCADE);

CREATE TABLE app.nopk (a integer, b text);

CREATE TABLE app.parted (id integer PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE app.parted_low PARTITION OF app.parted FOR VALUES FROM (0) TO (1000);

CREATE TABLE app.base (id integer PRIMARY KEY, v text);
CREATE TABLE app.base_child (extra text) INHERITS (app.base);

-- A partition and an inheritance child in the denied schema: a scan of their allowed parent returns
-- their rows (PostgreSQL checks only the parent's privileges), so the parent is refused without ONLY.
CREATE TABLE app.ledger (id integer PRIMARY KEY, v text) PARTITION BY RANGE (id);
CREATE TABLE app.ledger_open PARTITION OF app.ledger FOR VALUES FROM (0) TO (1000);
CREATE TABLE internal.ledger_secret PARTITION OF app.ledger FOR VALUES FROM (1000) TO (2000);
CREATE TABLE app.notes_base (id integer PRIMARY KEY, v text);
CREATE TABLE internal.notes_secret (secret text) INHERITS (app.notes_base);

-- A table a denied table references with ON DELETE CASCADE: deleting from it changes the denied one.
CREATE TABLE app.accounts (id integer PRIMARY KEY, note text);
CREATE TABLE internal.account_secrets (id integer PRIMARY KEY, account_id integer REFERENCES app.accounts (id) ON DELETE CASCADE);

CREATE TABLE app.gen (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, qty integer, total integer GENERATED ALWAYS AS (qty * 2) STORED);

INSERT INTO app.audited SELECT g, 'n' || g FROM generate_series(1, 10) g;
INSERT INTO app.ruled SELECT g, 'n' || g FROM generate_series(1, 10) g;
INSERT INTO app.parents SELECT g FROM generate_series(1, 10) g;
INSERT INTO app.children SELECT g, g FROM generate_series(1, 10) g;
INSERT INTO app.nopk SELECT g, 'n' || g FROM generate_series(1, 10) g;
INSERT INTO app.parted SELECT g, 'n' || g FROM generate_series(1, 10) g;
INSERT INTO app.base SELECT g, 'n' || g FROM generate_series(1, 10) g;
INSERT INTO app.ledger SELECT g, 'n' || g FROM generate_series(1, 10) g;
INSERT INTO app.ledger VALUES (1500, 'secret');
INSERT INTO app.notes_base SELECT g, 'n' || g FROM generate_series(1, 10) g;
INSERT INTO internal.notes_secret VALUES (9001, 'v', 'secret');
INSERT INTO app.accounts SELECT g, 'n' || g FROM generate_series(1, 10) g;
INSERT INTO internal.account_secrets SELECT g, g FROM generate_series(1, 10) g;
INSERT INTO app.gen (qty) SELECT g FROM generate_series(1, 10) g;
ANALYZE;
