-- Tables for the masked-writes corpus: a foreign key INTO a masked column (the red team's
-- membership oracle on raw e-mails), a unique key over a masked column with an unmasked one, and a
-- CHECK that compares a masked column with an unmasked one. test/unit/mask/masked-writes-corpus.test.ts
-- mirrors them as catalog facts for the pure run.
CREATE TABLE app.newsletter (id bigint PRIMARY KEY, email text REFERENCES app.customers (email), topic text NOT NULL DEFAULT 'all');
INSERT INTO app.newsletter (id, email, topic) SELECT id, email, 'all' FROM app.customers WHERE id <= 3;
CREATE TABLE app.members (id bigint PRIMARY KEY, club text NOT NULL, ssn text, nick text, UNIQUE (club, ssn), CHECK (nick IS DISTINCT FROM ssn));
INSERT INTO app.members (id, club, ssn, nick) SELECT id, 'chess', ssn, 'm' || id FROM app.customers WHERE id <= 5 AND ssn IS NOT NULL;
