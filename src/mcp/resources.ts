/**
 * MCP resources: the schema as the principal may see it, and operator-defined resources.
 *
 * URI scheme (docs/mcp.md):
 *   pgwarden://db/{database}                    describe's payload without a table (schemas, tables)
 *   pgwarden://db/{database}/{schema}           the same, for one schema
 *   pgwarden://db/{database}/{schema}/{table}   describe's payload for one table (columns, keys, masked sample)
 *   pgwarden://resource/{name}                  an operator-defined resource (config `resources`): its rows,
 *                                               or the resource's own `uri` when the operator gives one
 *                                               (a URI template when it has `parameters`)
 * Names are percent-encoded (RFC 3986) in URIs.
 *
 * Guarantees: listing and reading go through the gateway's describe (and the read path for
 * operator resources), so they obey the policy exactly as the describe tool does: a database whose
 * policy switches describe off lists nothing and reads nothing; a table that does not exist and a
 * table the policy hides give the same "resource not found" error, and so does a URI nothing
 * serves: the SDK's ResourceNotFoundError (-32602 with data exactly `{ uri }`, which SDK clients
 * recognise as not-found), the refusal's code and fix in the message. Completions offer only databases, schemas and tables the principal may see.
 * Does not: page large listings (at most MAX_LISTED entries are listed; templates reach the rest).
 */
import { ResourceNotFoundError, ResourceTemplate, type McpServer, type ReadResourceResult } from '@modelcontextprotocol/server';
import type { CallContext, Gateway } from '../core/gateway.js';
import type { Outcome, Refusal } from '../core/results.js';
import { toolEnabled } from '../core/principals.js';
import { grantedTo } from '../core/predefined.js';
import type { PredefinedResource } from '../config/schema.js';

export const MAX_LISTED = 1000;
const MIME = 'application/json';

type Run = <R>(fn: (ctx: CallContext) => Promise<R>) => Promise<R>;

interface Visible {
  schemas: { name: string; description?: string }[];
  tables: { schema: string; name: string; kind: string; description?: string }[];
}

const enc = encodeURIComponent;

export function databaseUri(database: string): string {
  return `pgwarden://db/${enc(database)}`;
}
export function schemaUri(database: string, schema: string): string {
  return `${databaseUri(database)}/${enc(schema)}`;
}
export function tableUri(database: string, schema: string, table: string): string {
  return `${schemaUri(database, schema)}/${enc(table)}`;
}
export function operatorResourceUri(name: string): string {
  return `pgwarden://resource/${enc(name)}`;
}

function decode(value: string | string[] | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * One shape for every miss (unknown URI, missing or hidden object, refused read): data is exactly
 * `{ uri }` as for a URI the SDK finds no handler for; the refusal's reasons go into the message.
 */
function notFound(uri: string, refusal?: Refusal): ResourceNotFoundError {
  const why = (refusal?.reasons ?? []).map((r) => ` ${r.code}: ${r.message}${r.fix ? ` Fix: ${r.fix}` : ''}`).join('');
  return new ResourceNotFoundError(uri, `Resource not found: ${uri}.${why}`);
}

function json(uri: string, payload: unknown): ReadResourceResult {
  return { contents: [{ uri, mimeType: MIME, text: JSON.stringify(payload) }] };
}

function unwrap<T>(uri: string, out: Outcome<T>): T {
  if (!out.ok) throw notFound(uri, out.refusal);
  return out.value;
}

/** Databases where this principal may describe (the same switch describe obeys). */
function describable(gateway: Gateway, principal: string): string[] {
  return (gateway.principal(principal)?.databases ?? []).filter((db) => toolEnabled(gateway.policyFor(principal, db), 'describe'));
}

async function visible(gateway: Gateway, ctx: CallContext, database: string): Promise<Visible | undefined> {
  const out = await gateway.describe(ctx, { database });
  return out.ok ? (out.value as unknown as Visible) : undefined;
}

/**
 * An operator resource template (config `resources` with `parameters`): each URI variable is an
 * argument, validated and bound like a predefined tool's; enum variables complete to their values.
 */
function registerOperatorTemplate(server: McpServer, gateway: Gateway, name: string, res: PredefinedResource, uri: string, run: Run): void {
  const complete: Record<string, (value: string) => string[]> = {};
  for (const p of res.parameters) {
    const values = p.values;
    if (values !== undefined) complete[p.name] = (value) => values.map(String).filter((v) => v.startsWith(value)).slice(0, 100);
  }
  server.registerResource(
    name,
    new ResourceTemplate(uri, { list: undefined, complete }),
    { title: res.title ?? name, ...(res.description ? { description: res.description } : {}), mimeType: MIME },
    async (href, vars) =>
      run(async (ctx) => {
        const args: Record<string, string> = {};
        for (const p of res.parameters) {
          const v = decode(vars[p.name]);
          if (v === undefined) throw notFound(href.href);
          args[p.name] = v;
        }
        return json(href.href, unwrap(href.href, await gateway.predefinedResource(ctx, name, args)));
      }),
  );
}

/** Register the resources and templates one principal may use on a per-request server. */
export function registerResources(server: McpServer, gateway: Gateway, principal: string, run: Run): void {
  const databases = describable(gateway, principal);
  const config = gateway.config;
  for (const [name, res] of Object.entries(config.resources)) {
    if (!grantedTo(config, res, principal)) continue;
    const uri = res.uri ?? operatorResourceUri(name);
    if (res.parameters.length > 0) {
      registerOperatorTemplate(server, gateway, name, res, uri, run);
      continue;
    }
    server.registerResource(name, uri, { title: res.title ?? name, ...(res.description ? { description: res.description } : {}), mimeType: MIME }, async () =>
      run(async (ctx) => json(uri, unwrap(uri, await gateway.predefinedResource(ctx, name)))),
    );
  }
  if (databases.length === 0) return;

  const completeDatabase = (value: string): string[] => databases.filter((d) => d.startsWith(value));
  const completeSchema = async (value: string, context?: { arguments?: Record<string, string> }): Promise<string[]> => {
    const db = context?.arguments?.database ?? databases[0];
    if (db === undefined || !databases.includes(db)) return [];
    const v = await run((ctx) => visible(gateway, ctx, db));
    return (v?.schemas ?? []).map((s) => s.name).filter((s) => s.startsWith(value)).slice(0, 100);
  };
  const completeTable = async (value: string, context?: { arguments?: Record<string, string> }): Promise<string[]> => {
    const db = context?.arguments?.database ?? databases[0];
    if (db === undefined || !databases.includes(db)) return [];
    const schema = context?.arguments?.schema;
    const v = await run((ctx) => visible(gateway, ctx, db));
    return (v?.tables ?? [])
      .filter((t) => (schema === undefined || t.schema === schema) && t.name.startsWith(value))
      .map((t) => t.name)
      .slice(0, 100);
  };

  const list = async (): Promise<{ resources: { uri: string; name: string; title?: string; description?: string; mimeType: string }[] }> =>
    run(async (ctx) => {
      const resources: { uri: string; name: string; title?: string; description?: string; mimeType: string }[] = [];
      for (const db of databases) {
        const v = await visible(gateway, ctx, db);
        if (!v) continue;
        resources.push({ uri: databaseUri(db), name: db, title: `Database ${db}`, mimeType: MIME });
        for (const s of v.schemas) resources.push({ uri: schemaUri(db, s.name), name: `${db}/${s.name}`, title: `Schema ${s.name}`, ...(s.description ? { description: s.description } : {}), mimeType: MIME });
        for (const t of v.tables) {
          if (resources.length >= MAX_LISTED) break;
          resources.push({ uri: tableUri(db, t.schema, t.name), name: `${db}/${t.schema}.${t.name}`, title: `${t.kind === 'table' ? 'Table' : 'Relation'} ${t.schema}.${t.name}`, ...(t.description ? { description: t.description } : {}), mimeType: MIME });
        }
      }
      return { resources: resources.slice(0, MAX_LISTED) };
    });

  // Most specific first: the SDK reads through the first template that matches.
  server.registerResource(
    'table',
    new ResourceTemplate('pgwarden://db/{database}/{schema}/{table}', { list: undefined, complete: { database: completeDatabase, schema: completeSchema, table: completeTable } }),
    { title: 'A table or view: columns, types, keys, indexes, masked sample rows', mimeType: MIME },
    async (uri, vars) =>
      run(async (ctx) => {
        const [db, schema, table] = [decode(vars.database), decode(vars.schema), decode(vars.table)];
        if (db === undefined || schema === undefined || table === undefined || !databases.includes(db)) throw notFound(uri.href);
        const quoted = `"${schema.replace(/"/g, '""')}"."${table.replace(/"/g, '""')}"`;
        return json(uri.href, unwrap(uri.href, await gateway.describe(ctx, { database: db, table: quoted })));
      }),
  );
  server.registerResource(
    'schema',
    new ResourceTemplate('pgwarden://db/{database}/{schema}', { list: undefined, complete: { database: completeDatabase, schema: completeSchema } }),
    { title: 'One schema: its visible tables', mimeType: MIME },
    async (uri, vars) =>
      run(async (ctx) => {
        const [db, schema] = [decode(vars.database), decode(vars.schema)];
        if (db === undefined || schema === undefined || !databases.includes(db)) throw notFound(uri.href);
        const out = await gateway.describe(ctx, { database: db });
        const v = unwrap(uri.href, out) as unknown as Visible & { database: string };
        const s = v.schemas.find((x) => x.name === schema);
        if (!s) throw notFound(uri.href);
        return json(uri.href, { database: v.database, schema: s, tables: v.tables.filter((t) => t.schema === schema) });
      }),
  );
  server.registerResource(
    'database',
    new ResourceTemplate('pgwarden://db/{database}', { list, complete: { database: completeDatabase } }),
    { title: 'A database: the schemas and tables you may read', mimeType: MIME },
    async (uri, vars) =>
      run(async (ctx) => {
        const db = decode(vars.database);
        if (db === undefined || !databases.includes(db)) throw notFound(uri.href);
        return json(uri.href, unwrap(uri.href, await gateway.describe(ctx, { database: db })));
      }),
  );
}
