-- What makes twin B differ from twin A: only what the fuzz policy hides (test/fuzz/world.ts).
-- Masked columns: other raw values with the same format, length and NULL pattern (digits and
-- letters rotated; the e-mail domain and the phone's last 4 characters, which the masks show, kept).
-- Denied tables and the hidden schema: other rows, other contents, other object names.
-- (the cascade to app.newsletter.email must not fire its user trigger: same `touched` as A)
ALTER TABLE app.newsletter DISABLE TRIGGER USER;
UPDATE app.customers SET
  email = translate(substring(email from '^(.*)@'), '0123456789abcdefghijklmnopqrstuvwxyz', '3456789012hijklmnopqrstuvwxyzabcdefg') || substring(email from '@[^@]*$'),
  phone = translate(left(phone, -4), '0123456789', '3456789012') || right(phone, 4),
  ssn = translate(ssn, '0123456789', '7890123456');
ALTER TABLE app.newsletter ENABLE TRIGGER USER;
UPDATE app.orders SET shipping_address = translate(shipping_address, '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', '3456789012hijklmnopqrstuvwxyzabcdefgHIJKLMNOPQRSTUVWXYZABCDEFG');
UPDATE internal.api_keys SET secret = 'sk_live_OTHER_' || md5(secret);
INSERT INTO internal.api_keys VALUES (3, 'sms', 'sk_live_THIRD_key');
UPDATE internal.staff_notes SET note = 'Other words entirely, row ' || id;
INSERT INTO internal.staff_notes SELECT i, i, 'Extra note ' || i FROM generate_series(21, 60) i;
UPDATE vault.tokens SET token = 'tok_B_' || id;
INSERT INTO vault.tokens VALUES (3, 'tok_B_third');
SELECT nextval('vault.counter') FROM generate_series(1, 5);
ALTER TABLE vault.tokens RENAME TO coins;
ALTER FUNCTION vault.peek(int) RENAME TO glance;
ALTER SEQUENCE vault.counter RENAME TO tally;
ALTER VIEW vault.token_view RENAME TO coin_view;
ALTER TABLE internal.staff_notes RENAME COLUMN note TO remark;
-- the hidden schema's own name (every object in it prints qualified with it)
ALTER SCHEMA vault RENAME TO strongroom;
