import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/core/errors.js';
import { CatalogCache, loadCatalog } from '../../../src/db/catalog.js';
import { describeRelation, listRelations } from '../../../src/db/describe.js';
import type { DatabasePool } from '../../../src/db/pool.js';
import { createScratchDatabase, type ScratchDatabase } from '../../support/postgres.js';
import { testDatabase } from '../../support/pg.js';
import { adminQuery, limits, poolFor, rejection } from './helpers.js';

const t = testDatabase();
let pool: DatabasePool;
beforeAll(() => {
  pool = poolFor(t.gatewayUrl);
});
afterAll(async () => {
  await pool.end();
});

describe('loadCatalog', () => {
  it('lists relations of every kind with their schema, kind and estimates', async () => {
    const snap = await loadCatalog(pool, 7);
    expect(snap.version).toBe(7);
    expect(snap.relations.get('app.customers')).toMatchObject({ schema: 'app', name: 'customers', kind: 'table', estimatedRows: 200 });
    expect(snap.relations.get('app.events_id_seq')?.kind).toBe('sequence');
    expect(snap.relations.get('internal.api_keys')?.kind).toBe('table');
    expect(snap.relations.get('pg_catalog.pg_class')?.kind).toBe('table');
    expect(snap.relations.get('information_schema.tables')?.kind).toBe('view');
    expect(snap.schemas.has('app') && snap.schemas.has('internal') && snap.schemas.has('pg_catalog')).toBe(true);
    expect(snap.userOperators.size).toBe(0);
  });

  it("records the base relations views read: app.customer_notes reads internal.staff_notes", async () => {
    const snap = await loadCatalog(pool, 1);
    expect(snap.relations.get('app.customer_notes')).toMatchObject({ kind: 'view', dependsOn: ['app.customers', 'internal.staff_notes'] });
    expect(snap.relations.get('app.order_totals')?.dependsOn).toEqual(['app.orders']);
    expect(snap.relations.get('app.customers')?.dependsOn).toBeUndefined();
  });

  it('lists functions in every schema with security definer, volatility and language', async () => {
    const snap = await loadCatalog(pool, 1);
    expect(snap.functions.get('lookup_key')).toEqual([
      { schema: 'app', name: 'lookup_key', securityDefiner: true, volatility: 'stable', language: 'sql', args: [25], ret: 25, variadic: false, defaults: 0 },
    ]);
    // types, implicit casts and operators for type-based candidate resolution (issue #9 item 5)
    const info = snap.typeInfo;
    expect(info?.types.get(25)).toMatchObject({ schema: 'pg_catalog', name: 'text', category: 'S', preferred: true, array: 1009 });
    expect(info?.types.get(1009)).toMatchObject({ name: '_text', category: 'A', base: 25 });
    expect(info?.implicitCasts.get(23)).toContain(20);
    expect(info?.operators.get('=')?.some((o) => o.schema === 'pg_catalog' && o.left === 25 && o.right === 25 && o.result === 16)).toBe(true);
    const orders = snap.relations.get('app.orders')?.columns ?? [];
    expect(orders.find((c) => c.name === 'id')).toMatchObject({ type: 'bigint', typeOid: 20 });
    expect(snap.functions.get('cents_to_eur')?.[0]).toMatchObject({ securityDefiner: false, volatility: 'immutable' });
    expect(snap.functions.get('pg_sleep')?.[0]).toMatchObject({ schema: 'pg_catalog', volatility: 'volatile', language: 'internal' });
  });
});

describe('loadCatalog: constraint facts for masked writes (issue #9 item 2)', () => {
  let scratch: ScratchDatabase;
  let scratchPool: DatabasePool;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    await adminQuery(
      scratch.databaseUrl,
      `CREATE TABLE app.newsletter (id bigint PRIMARY KEY, email text REFERENCES app.customers(email), topic text DEFAULT 'all');
       CREATE UNIQUE INDEX customers_lower_ssn ON app.customers (lower(ssn)) WHERE country <> 'XX';
       ALTER TABLE app.customers ADD CONSTRAINT customers_phone_check CHECK (phone <> city) NOT VALID;
       CREATE TABLE app.slots (id int PRIMARY KEY, during tstzrange, owner text, EXCLUDE USING gist (during WITH &&));`,
    );
    scratchPool = poolFor(scratch.gatewayUrl);
  });
  afterAll(async () => {
    await scratchPool.end();
    await scratch.drop();
  });

  it('lists unique, exclusion, check and foreign-key constraints with every column they read, and defaulted columns', async () => {
    const snap = await loadCatalog(scratchPool, 1);
    const customers = snap.relations.get('app.customers')?.write;
    expect(customers?.constraints).toEqual(
      expect.arrayContaining([
        { name: 'customers_pkey', kind: 'unique', columns: ['id'], nullsNotDistinct: false },
        { name: 'customers_email_key', kind: 'unique', columns: ['email'], nullsNotDistinct: false },
        // expression and predicate columns come from pg_depend
        { name: 'customers_lower_ssn', kind: 'unique', columns: ['ssn', 'country'], nullsNotDistinct: false },
        { name: 'customers_phone_check', kind: 'check', columns: ['phone', 'city'], validated: false },
      ]),
    );
    expect(customers?.defaulted).toEqual(['marketing_opt_in', 'profile']);
    expect(customers?.referencedBy).toEqual(
      expect.arrayContaining([expect.objectContaining({ table: 'app.newsletter', columns: ['email'], referencingColumns: ['email'] })]),
    );
    const newsletter = snap.relations.get('app.newsletter')?.write;
    expect(newsletter?.constraints).toEqual(
      expect.arrayContaining([{ name: 'newsletter_email_fkey', kind: 'foreign_key', columns: ['email'], validated: true, references: { table: 'app.customers', columns: ['email'] } }]),
    );
    expect(newsletter?.defaulted).toEqual(['topic']);
    expect(snap.relations.get('app.slots')?.write?.constraints).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'exclusion', columns: ['during'] })]));
  });
});

describe('loadCatalog: every row and value as stored (the snapshot is one JSON statement, issue #13)', () => {
  let scratch: ScratchDatabase;
  let scratchPool: DatabasePool;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    await adminQuery(
      scratch.databaseUrl,
      `CREATE SCHEMA "Wëird ""s"" \\ 🦆";
       CREATE TABLE "Wëird ""s"" \\ 🦆"."t\\ab ""le""" ("col ""q"" ü" varchar(12), "Ä" numeric(10,2), id int PRIMARY KEY);
       CREATE VIEW "Wëird ""s"" \\ 🦆"."v\\" AS SELECT "col ""q"" ü", pg_catalog.lower("col ""q"" ü") AS l FROM "Wëird ""s"" \\ 🦆"."t\\ab ""le""";
       CREATE FUNCTION "Wëird ""s"" \\ 🦆"."f""n\\" (a int, b text DEFAULT 'x') RETURNS text LANGUAGE sql STABLE SECURITY DEFINER AS 'SELECT b';
       UPDATE pg_catalog.pg_class SET reltuples = 12345678 WHERE relname = 'orders' AND relnamespace = 'app'::regnamespace;`,
    );
    scratchPool = poolFor(scratch.gatewayUrl);
  });
  afterAll(async () => {
    await scratchPool.end();
    await scratch.drop();
  });

  it('keeps quotes, backslashes and non-ASCII names, column order and types, and large estimates exactly', async () => {
    const snap = await loadCatalog(scratchPool, 1);
    const schema = 'Wëird "s" \\ 🦆';
    expect(snap.schemas.has(schema)).toBe(true);
    const table = snap.relations.get(`${schema}.t\\ab "le"`);
    expect(table?.columns).toEqual([
      { name: 'col "q" ü', type: 'character varying(12)', typeOid: 1043 },
      { name: 'Ä', type: 'numeric(10,2)', typeOid: 1700 },
      { name: 'id', type: 'integer', typeOid: 23 },
    ]);
    expect(table?.write?.primaryKey).toEqual(['id']);
    expect(snap.relations.get(`${schema}.v\\`)).toMatchObject({ kind: 'view', dependsOn: [`${schema}.t\\ab "le"`], dependsOnFunctions: ['pg_catalog.lower'] });
    expect(snap.functions.get('f"n\\')).toEqual([{ schema, name: 'f"n\\', securityDefiner: true, volatility: 'stable', language: 'sql', args: [23, 25], ret: 25, variadic: false, defaults: 1 }]);
    expect(snap.relations.get('app.orders')?.estimatedRows).toBe(12345678); // float8 text 1.2345678e+07
  });

  it('holds every relation, function, type, cast and operator the database has', async () => {
    const snap = await loadCatalog(scratchPool, 1);
    const [counts] = await adminQuery<Record<string, string>>(
      scratch.databaseUrl,
      `SELECT (SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p', 'v', 'm', 'f', 'S')) AS relations, (SELECT count(*) FROM pg_proc) AS functions,
              (SELECT count(*) FROM pg_type) AS types, (SELECT count(*) FROM pg_operator) AS operators,
              (SELECT count(*) FROM pg_cast WHERE castcontext = 'i') AS casts, (SELECT count(*) FROM pg_namespace) AS schemas`,
    );
    const info = snap.typeInfo;
    expect({
      relations: snap.relations.size,
      functions: [...snap.functions.values()].reduce((n, l) => n + l.length, 0),
      types: info?.types.size,
      operators: [...(info?.operators.values() ?? [])].reduce((n, l) => n + l.length, 0),
      casts: [...(info?.implicitCasts.values() ?? [])].reduce((n, l) => n + l.length, 0),
      schemas: snap.schemas.size,
    }).toEqual(Object.fromEntries(Object.entries(counts ?? {}).map(([k, v]) => [k, Number(v)])));
  });
});

describe('loadCatalog on a database with nested views and user operators', () => {
  let scratch: ScratchDatabase;
  let scratchPool: DatabasePool;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    await adminQuery(
      scratch.databaseUrl,
      `CREATE VIEW app.notes_again AS SELECT * FROM app.customer_notes WHERE id < 10;
       CREATE MATERIALIZED VIEW app.key_services AS SELECT app.lookup_key(service) AS k, upper(service) AS s FROM internal.api_keys;
       CREATE VIEW app.view_calling_definer AS SELECT app.lookup_key('payments') AS k;
       CREATE VIEW app.role_names AS SELECT rolname, pg_read_file('PG_VERSION') AS v FROM pg_catalog.pg_authid;
       CREATE FUNCTION app.approx_eq(int, int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT abs($1 - $2) < 2';
       CREATE OPERATOR app.~~~ (LEFTARG = int, RIGHTARG = int, FUNCTION = app.approx_eq);
       GRANT SELECT ON ALL TABLES IN SCHEMA app TO ${t.gatewayRole};`,
    );
    scratchPool = poolFor(scratch.gatewayUrl);
  });
  afterAll(async () => {
    await scratchPool.end();
    await scratch.drop();
  });

  it('follows views through views, transitively', async () => {
    const snap = await loadCatalog(scratchPool, 1);
    expect(snap.relations.get('app.notes_again')?.dependsOn).toEqual(['app.customer_notes', 'app.customers', 'internal.staff_notes']);
    expect(snap.relations.get('app.key_services')).toMatchObject({ kind: 'materialized_view', dependsOn: ['internal.api_keys'] });
  });

  it('sees references to built-in (pinned) catalogs and functions, which pg_depend does not record', async () => {
    const snap = await loadCatalog(scratchPool, 1);
    expect(snap.relations.get('app.role_names')?.dependsOn).toEqual(['pg_catalog.pg_authid']);
    expect(snap.relations.get('app.role_names')?.dependsOnFunctions).toEqual(['pg_catalog.pg_read_file']);
  });

  it('records the functions views call', async () => {
    const snap = await loadCatalog(scratchPool, 1);
    expect(snap.relations.get('app.view_calling_definer')?.dependsOnFunctions).toEqual(['app.lookup_key']);
    expect(snap.relations.get('app.key_services')?.dependsOnFunctions).toEqual(['app.lookup_key', 'pg_catalog.upper']);
  });

  it('lists operators defined outside pg_catalog', async () => {
    const snap = await loadCatalog(scratchPool, 1);
    expect([...snap.userOperators]).toEqual(['~~~']);
  });

  it('CatalogCache: serves within the TTL, reloads after, bumps the version only on change', async () => {
    let now = 1_000;
    const cache = new CatalogCache(scratchPool, { ttlMs: 60_000, now: () => now });
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    expect(a).toBe(b);
    expect(a.version).toBe(1);
    expect(await cache.get()).toBe(a);
    now += 61_000;
    const same = await cache.get();
    expect(same.version).toBe(1);
    await adminQuery(scratch.databaseUrl, 'CREATE TABLE app.brand_new (id int)');
    expect((await cache.get()).relations.has('app.brand_new')).toBe(false); // within TTL
    expect((await cache.refresh()).relations.has('app.brand_new')).toBe(false); // refresh rate-limited
    now += 1_500;
    const fresh = await cache.refresh();
    expect(fresh.version).toBe(2);
    expect(fresh.relations.has('app.brand_new')).toBe(true);
    expect((await cache.refresh({ force: true })).version).toBe(2);
  });
});

describe('describe', () => {
  it('lists relations of the requested schemas with comments and estimates', async () => {
    const list = await listRelations(pool, ['app']);
    expect(list.map((r) => r.name)).toEqual(['customer_notes', 'customers', 'events', 'order_items', 'order_totals', 'orders', 'products', 'support_tickets']);
    expect(list.find((r) => r.name === 'customers')).toEqual({
      schema: 'app',
      name: 'customers',
      kind: 'table',
      estimatedRows: 200,
      comment: 'People who bought at least once or signed up.',
    });
    expect(list.find((r) => r.name === 'order_totals')?.kind).toBe('view');
    expect(await listRelations(pool, [])).toEqual([]);
  });

  it('describes columns, keys, indexes and estimates of a table', async () => {
    const d = await describeRelation(pool, 'app', 'orders');
    expect(d.kind).toBe('table');
    expect(d.estimatedRows).toBe(1000);
    expect(d.columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['id', 'bigint', false],
      ['customer_id', 'bigint', false],
      ['status', 'text', false],
      ['placed_at', 'timestamp with time zone', false],
      ['shipped_at', 'timestamp with time zone', true],
      ['total_cents', 'integer', false],
      ['shipping_address', 'text', true],
    ]);
    expect(d.primaryKey).toEqual(['id']);
    expect(d.foreignKeys).toEqual([
      {
        name: 'orders_customer_id_fkey',
        columns: ['customer_id'],
        references: { schema: 'app', table: 'customers', columns: ['id'] },
        definition: 'FOREIGN KEY (customer_id) REFERENCES app.customers(id)',
      },
    ]);
    expect(d.indexes.map((i) => i.name)).toEqual(['orders_customer_idx', 'orders_pkey', 'orders_placed_idx']);
    expect(d.indexes.find((i) => i.name === 'orders_pkey')).toMatchObject({ unique: true, primary: true, definition: 'CREATE UNIQUE INDEX orders_pkey ON app.orders USING btree (id)' });
  });

  it('describes defaults, comments and composite keys', async () => {
    const customers = await describeRelation(pool, 'app', 'customers');
    expect(customers.columns.find((c) => c.name === 'email')?.comment).toBe('Login e-mail (PII).');
    expect(customers.columns.find((c) => c.name === 'marketing_opt_in')?.default).toBe('false');
    const items = await describeRelation(pool, 'app', 'order_items');
    expect(items.primaryKey).toEqual(['order_id', 'line_no']);
    expect(items.foreignKeys.map((f) => f.references.table).sort()).toEqual(['orders', 'products']);
  });

  it('fetches sample rows through the hardened read path', async () => {
    const d = await describeRelation(pool, 'app', 'products', { sample: { rows: 3, read: { limits: limits(), searchPath: ['app'] } } });
    expect(d.sample?.rowCount).toBe(3);
    expect(d.sample?.columns.map((c) => c.name)).toEqual(['id', 'sku', 'name', 'category', 'price_cents', 'active', 'tags']);
    const denied = await rejection(describeRelation(pool, 'internal', 'api_keys', { sample: { rows: 2, read: { limits: limits(), searchPath: ['app'], role: t.readerRole } } }));
    expect((denied as GatewayError).code).toBe('PERMISSION_DENIED');
  });

  it('UNKNOWN_TABLE for a relation that does not exist (names are not SQL)', async () => {
    const err = await rejection(describeRelation(pool, 'app', 'customers; DROP TABLE app.events'));
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('UNKNOWN_TABLE');
  });
});
