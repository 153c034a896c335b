/**
 * The four properties (docs/testing.md), each one statement at a time against the fuzz world.
 *
 * 1. noninterference: the same call on twin A and twin B gives the same observation (writes: the
 *    execute result, then a read of what the write stored, on both).
 * 2. side effects: database and pooled-session state of A before and after a batch of reads
 *    (see sideEffectSnapshot); a changed batch is replayed statement by statement.
 * 3. touches: relations and user functions PostgreSQL used (EXPLAIN VERBOSE plan nodes,
 *    pg_stat_xact_user_tables and _functions under track_functions = all, run on M and rolled back)
 *    are within what the guard's `check` listed (views expanded to what they read, parents to
 *    their children).
 * 4. fidelity: a green statement's gateway result on A equals the statement run directly on M.
 * Each returns a problem text (a violation), 'skip' (says nothing: timing, invalid statement) or
 * undefined (held).
 */
import pg from 'pg';
import { resultTypes, toJsonValue } from '../../src/db/values.js';
import { withClient } from '../support/cluster.js';
import { firstDifference, observe, timingDependent, type Observation } from './observe.js';
import { FUZZ_MASKS, type Twin, type World } from './world.js';

export type Verdict = string | 'skip' | undefined;

export const SKIP = 'skip';

// ------------------------------------------------------------------ 1. noninterference

export async function noninterferenceRead(world: World, tool: string, sql: string): Promise<{ verdict: Verdict; a: Observation }> {
  const args = { sql };
  const [a, b] = [await observe(world.a.analyst, tool, args), await observe(world.b.analyst, tool, args)];
  if (a.key === b.key) return { verdict: undefined, a };
  if (timingDependent(a) || timingDependent(b)) return { verdict: SKIP, a };
  return { verdict: `A and B differ at ${firstDifference(a.body, b.body)}`, a };
}

async function revert(twin: Twin, o: Observation): Promise<boolean> {
  const undoId = o.raw.undoId;
  if (o.isError || typeof undoId !== 'string') return true;
  const r = await observe(twin.writer, 'revert', { undoId, database: 'w' });
  return !r.isError;
}

export async function noninterferenceWrite(world: World, sql: string, followUp: string): Promise<Verdict> {
  const args = { sql, database: 'w' };
  const a = await observe(world.a.writer, 'execute', args);
  const b = await observe(world.b.writer, 'execute', args);
  // neither twin executed (refused, held, failed): nothing was stored, the execute results say it all
  if (a.isError && b.isError) {
    if (a.key === b.key) return undefined;
    if (timingDependent(a) || timingDependent(b)) return SKIP;
    return `execute differs at ${firstDifference(a.body, b.body)}`;
  }
  const fa = await observe(world.a.writer, 'query', { sql: followUp, database: 'w' });
  const fb = await observe(world.b.writer, 'query', { sql: followUp, database: 'w' });
  const reverted = (await revert(world.a, a)) && (await revert(world.b, b));
  if (!reverted || (a.raw.undoId === null && !a.isError) || (b.raw.undoId === null && !b.isError)) await world.resetWrites();
  if (a.key !== b.key) {
    if (timingDependent(a) || timingDependent(b)) return SKIP;
    return `execute differs at ${firstDifference(a.body, b.body)}`;
  }
  if (fa.key !== fb.key) return `the later read (${followUp}) differs at ${firstDifference(fa.body, fb.body)}`;
  return undefined;
}

// ------------------------------------------------------------------ 4. fidelity

interface Direct {
  columns: { name: string; type: string }[];
  rows: unknown[][];
}

async function runDirect(url: string, sql: string): Promise<Direct | { error: string; code: string }> {
  return await withClient(url, async (c) => {
    await c.query(`BEGIN READ ONLY; SET LOCAL search_path = app, public; SET LOCAL statement_timeout = 5000; SET LOCAL pgwarden.principal = 'analyst'`);
    try {
      const res = await c.query({ text: sql, rowMode: 'array', types: resultTypes });
      const oids = [...new Set(res.fields.map((f) => f.dataTypeID))];
      // named as the gateway names them (src/db/pool.ts: format_type outside the statement's search_path, so types outside pg_catalog are schema-qualified)
      await c.query('SET LOCAL search_path = pg_catalog');
      const names = await c.query<{ oid: number; name: string }>('SELECT oid::int AS oid, format_type(oid, NULL) AS name FROM pg_type WHERE oid = ANY($1)', [oids]);
      const byOid = new Map(names.rows.map((r) => [r.oid, r.name]));
      return {
        columns: res.fields.map((f) => ({ name: f.name, type: byOid.get(f.dataTypeID) ?? String(f.dataTypeID) })),
        rows: (res.rows as unknown[][]).map((r) => r.map(toJsonValue)),
      };
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      return { error: `${code} ${(err as Error).message}`, code };
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
    }
  });
}

/** Refusals docs/masking.md promises under masks (a view over a masked table): not false positives. */
const DOCUMENTED_REFUSALS = new Set(['MASKED_VIEW']);

/**
 * Whether every reason of a refusal is one docs/masking.md promises: MASKED_VIEW, or a masked table
 * named in a string that reaches a name lookup (a reg-type cast, to_regclass …: MASK_REWRITE_UNSUPPORTED
 * "… is named in a string").
 */
function documentedRefusal(a: Observation): boolean {
  const reasons = (a.raw.reasons ?? []) as { code?: string; message?: string }[];
  if (a.codes.length === 0 || reasons.length === 0) return false;
  return reasons.every((r) => DOCUMENTED_REFUSALS.has(r.code ?? '') || (r.code === 'MASK_REWRITE_UNSUPPORTED' && / is named in a string\b/.test(r.message ?? '')));
}

const multiset = (rows: unknown[][]): string => JSON.stringify(rows.map((r) => JSON.stringify(r)).sort());

export async function fidelity(world: World, sql: string, a: Observation): Promise<{ verdict: Verdict; falsePositive: boolean }> {
  const direct = await runDirect(world.maskedGatewayUrl, sql);
  if ('error' in direct) return { verdict: SKIP, falsePositive: false }; // not valid SQL here: the generator's problem, not the gateway's
  if (a.isError) {
    if (timingDependent(a) || documentedRefusal(a)) return { verdict: SKIP, falsePositive: false };
    const first = ((a.raw.reasons ?? []) as { message?: string }[])[0]?.message ?? JSON.stringify(a.body).slice(0, 200);
    return { verdict: `refused good SQL (${[...new Set(a.codes)].join(', ')}): ${first}`, falsePositive: true };
  }
  const body = a.raw as { columns?: { name: string; type: string }[]; rows?: unknown[][]; truncated?: boolean };
  const cols = JSON.stringify(body.columns ?? []);
  if (cols !== JSON.stringify(direct.columns)) return { verdict: `columns differ: gateway ${cols} ≠ direct ${JSON.stringify(direct.columns)}`, falsePositive: true };
  const ordered = /\b(limit|offset|fetch|distinct\s+on)\b/i.test(sql);
  if (body.truncated === true || ordered) return { verdict: undefined, falsePositive: false };
  if (multiset(body.rows ?? []) !== multiset(direct.rows)) {
    return { verdict: `rows differ: ${firstDifference([...(body.rows ?? [])].map((r) => JSON.stringify(r)).sort(), direct.rows.map((r) => JSON.stringify(r)).sort())}`, falsePositive: true };
  }
  return { verdict: undefined, falsePositive: false };
}

/** Tables with masked columns under the fuzz policy (schema.table). */
const MASKED_TABLES = new Set(Object.keys(FUZZ_MASKS).map((k) => k.split('.').slice(0, 2).join('.')));
/** Refusal codes that say a statement met the masking rewrite. */
const MASK_CODES = new Set(['MASK_REWRITE_UNSUPPORTED', 'MASKED_VIEW', 'MASKED_COLUMN_PREDICATE']);

export interface CorpusFidelity {
  /** The statement reads a table with masked columns (through the gateway's masking, or refused by it). */
  masked: boolean;
  /** undefined: the same result; 'skip': timing-dependent; 'documented': a refusal docs/masking.md promises; else the difference. */
  verdict: Verdict | 'documented';
}

/**
 * The strict differential of issue #9 item 6, for statements known to be valid (the green
 * corpus): the gateway's result on A must equal the statement run directly on M — the same
 * columns with the same types, the same rows (as a multiset; a capped result must be a
 * sub-multiset), or the same error (SQLSTATE). Unlike `fidelity` (the fuzzer's, which skips
 * statements that fail on M and statements with LIMIT), a failure on either side counts.
 */
export async function corpusFidelity(world: World, sql: string): Promise<CorpusFidelity> {
  const a = await observe(world.a.analyst, 'query', { sql });
  const direct = await runDirect(world.maskedGatewayUrl, sql);
  let masked: boolean;
  if (!a.isError) masked = ((a.raw.masked ?? []) as string[]).length > 0;
  else if (a.codes.some((c) => MASK_CODES.has(c))) masked = true;
  else {
    const check = await observe(world.a.analyst, 'check', { sql });
    masked = ((check.raw.relations ?? []) as string[]).some((r) => MASKED_TABLES.has(r));
  }
  const verdict = ((): CorpusFidelity['verdict'] => {
    if (timingDependent(a)) return SKIP;
    const sqlstate = typeof a.raw.sqlstate === 'string' ? a.raw.sqlstate : undefined;
    const first = ((a.raw.reasons ?? []) as { message?: string }[])[0]?.message ?? '';
    if ('error' in direct) {
      if (a.isError && sqlstate === direct.code) return undefined;
      if (!a.isError) return `the gateway ran it; directly on M it fails: ${direct.error.slice(0, 200)}`;
      return `the gateway says ${sqlstate ?? [...new Set(a.codes)].join(', ')} (${first}); directly on M it fails: ${direct.error.slice(0, 200)}`;
    }
    if (a.isError) {
      if (sqlstate === undefined && documentedRefusal(a)) return 'documented';
      return `${sqlstate !== undefined ? `fails with ${sqlstate}` : `refused (${[...new Set(a.codes)].join(', ')})`}: ${first}; directly on M it runs`;
    }
    const body = a.raw as { columns?: { name: string; type: string }[]; rows?: unknown[][]; truncated?: boolean };
    const cols = JSON.stringify(body.columns ?? []);
    if (cols !== JSON.stringify(direct.columns)) return `columns differ: gateway ${cols} ≠ direct ${JSON.stringify(direct.columns)}`;
    const got = (body.rows ?? []).map((r) => JSON.stringify(r));
    const want = direct.rows.map((r) => JSON.stringify(r));
    if (body.truncated === true) {
      const left = new Map<string, number>();
      for (const r of want) left.set(r, (left.get(r) ?? 0) + 1);
      for (const r of got) {
        const n = left.get(r) ?? 0;
        if (n === 0) return `a capped row is not a row of the direct result: ${r.slice(0, 160)}`;
        left.set(r, n - 1);
      }
      return undefined;
    }
    if (multiset(body.rows ?? []) !== multiset(direct.rows)) return `rows differ: ${firstDifference([...got].sort(), [...want].sort())}`;
    return undefined;
  })();
  return { masked, verdict };
}

// ------------------------------------------------------------------ 3. touches

interface Touched {
  relations: Set<string>;
  functions: Set<string>;
}

function planObjects(plan: unknown, into: Touched): void {
  if (Array.isArray(plan)) return plan.forEach((p) => planObjects(p, into));
  if (plan === null || typeof plan !== 'object') return;
  const p = plan as Record<string, unknown>;
  if (typeof p['Relation Name'] === 'string') into.relations.add(`${String(p.Schema)}.${p['Relation Name']}`);
  if (typeof p['Function Name'] === 'string') into.functions.add(`${String(p.Schema)}.${p['Function Name']}`);
  for (const v of Object.values(p)) if (typeof v === 'object') planObjects(v, into);
}

const EXPAND = `WITH RECURSIVE r(oid) AS (
    SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname || '.' || c.relname = ANY($1)
  UNION
    SELECT x.oid FROM r, LATERAL (
      SELECT i.inhrelid AS oid FROM pg_inherits i WHERE i.inhparent = r.oid
      UNION ALL
      SELECT d.refobjid FROM pg_rewrite rw JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid AND d.refclassid = 'pg_class'::regclass
       WHERE rw.ev_class = r.oid AND d.refobjid <> r.oid) x)
  SELECT DISTINCT n.nspname || '.' || c.relname AS name FROM r JOIN pg_class c ON c.oid = r.oid JOIN pg_namespace n ON n.oid = c.relnamespace`;

export async function touches(world: World, sql: string, listed?: { relations: string[]; functions: string[] }): Promise<Verdict> {
  const check = await observe(world.a.analyst, 'check', { sql });
  const judged = check.raw as { decision?: string; relations?: string[]; functions?: string[] };
  if (judged.decision !== 'allow') return SKIP;
  // `listed` replaces the guard's lists (the harness's self-test: an incomplete list must be caught)
  const decision = listed ?? judged;
  const touched: Touched = { relations: new Set(), functions: new Set() };
  let allowed = new Set<string>();
  const ok = await withClient(world.maskedUrl, async (c) => {
    await c.query('SET search_path = pg_catalog');
    allowed = new Set((await c.query<{ name: string }>(EXPAND, [decision.relations ?? []])).rows.map((r) => r.name));
    await c.query(`BEGIN READ ONLY; SET LOCAL search_path = app, public; SET LOCAL statement_timeout = 5000; SET LOCAL track_functions = 'all'; SET LOCAL pgwarden.principal = 'analyst'`);
    try {
      const plan = await c.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (VERBOSE, FORMAT JSON) ${sql}`);
      planObjects(plan.rows[0]?.['QUERY PLAN'], touched);
      await c.query(sql);
      const fns = await c.query<{ name: string }>(`SELECT schemaname || '.' || funcname AS name FROM pg_stat_xact_user_functions`);
      for (const f of fns.rows) touched.functions.add(f.name);
      const rels = await c.query<{ name: string }>(`SELECT schemaname || '.' || relname AS name FROM pg_stat_xact_user_tables WHERE seq_scan + coalesce(idx_scan, 0) > 0`);
      for (const r of rels.rows) touched.relations.add(r.name);
      return true;
    } catch {
      return false;
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
    }
  });
  if (!ok) return SKIP;
  const missing = [...touched.relations].filter((r) => !allowed.has(r) && !r.startsWith('pg_catalog.') && !r.startsWith('information_schema.'));
  const guardFns = new Set((decision.functions ?? []).map((f) => f.toLowerCase()));
  const fnMissing = [...touched.functions].filter((f) => !f.startsWith('pg_catalog.') && !guardFns.has(f.toLowerCase()) && !guardFns.has(f.split('.').pop() ?? f));
  if (missing.length === 0 && fnMissing.length === 0) return undefined;
  return `PostgreSQL used ${[...missing, ...fnMissing.map((f) => `${f}()`)].join(', ')}; the guard listed relations [${(decision.relations ?? []).join(', ')}] functions [${(decision.functions ?? []).join(', ')}]`;
}

// ------------------------------------------------------------------ 2. side effects

/** Database state of twin A (admin connection) and the pooled session's own state (probe principal, same pool of one). */
export async function sideEffectSnapshot(world: World): Promise<Record<string, string>> {
  const db = await withClient(world.readAdminUrl, async (c) => {
    await c.query('SET search_path = pg_catalog');
    const tables = await c.query<{ q: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS q FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname IN ('app', 'internal', 'vault') ORDER BY 1`,
    );
    const out: Record<string, string> = {};
    const sums = await c.query<{ s: string }>(
      `SELECT md5(concat_ws('|', ${tables.rows.map((t) => `(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM ${t.q} x)`).join(', ')})) AS s`,
    );
    out.data = sums.rows[0]?.s ?? '';
    const q = async (key: string, sql: string): Promise<void> => {
      const r = await c.query<{ v: string | null }>(sql);
      out[key] = String(r.rows[0]?.v ?? '');
    };
    await q('catalog', `SELECT md5(concat_ws('|', (SELECT string_agg(format('%s %s %s %s %s', oid, relname, relkind, relnamespace, relacl), ',' ORDER BY oid) FROM pg_class WHERE relpersistence <> 't'),
      (SELECT count(*) FROM pg_proc), (SELECT count(*) FROM pg_type), (SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname !~ '^pg_(toast_)?temp_'),
      (SELECT count(*) FROM pg_description), (SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension), (SELECT count(*) FROM pg_policy), (SELECT count(*) FROM pg_trigger),
      (SELECT string_agg(setrole || ':' || array_to_string(setconfig, ','), ';' ORDER BY setrole) FROM pg_db_role_setting
        WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())))) AS v`);
    await q('sequences', `SELECT string_agg(schemaname || '.' || sequencename || '=' || coalesce(last_value::text, '-'), ',' ORDER BY 1) AS v FROM pg_sequences`);
    await q('large objects', `SELECT count(*)::text AS v FROM pg_largeobject_metadata`);
    await q('temp relations', `SELECT count(*)::text AS v FROM pg_class WHERE relpersistence = 't'`);
    await q('prepared transactions', `SELECT count(*)::text AS v FROM pg_prepared_xacts WHERE database = current_database()`);
    await q('replication slots', `SELECT count(*)::text AS v FROM pg_replication_slots WHERE database IS NULL OR database = current_database()`);
    await q('locks of idle sessions', `SELECT string_agg(l.locktype || ':' || l.mode, ',' ORDER BY 1) AS v FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.state LIKE 'idle%' AND l.locktype <> 'virtualxid'`);
    await q('open transactions', `SELECT count(*)::text AS v FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'`);
    return out;
  });
  const session = await observe(world.a.probe, 'query', {
    // Not pg_prepared_statements: the session's named statements are the gateway's statement cache
    // (owner-scoped and bounded, test/integration/db/statement-cache.test.ts), and the guard refuses
    // that view under every policy; an agent cannot PREPARE (utility statement, dynamic SQL denied).
    sql: `SELECT (SELECT string_agg(name, ',' ORDER BY name) FROM pg_cursors) AS cursors,
      (SELECT string_agg(c, ',' ORDER BY c) FROM pg_listening_channels() c) AS listening,
      (SELECT string_agg(name || '=' || setting, ',' ORDER BY name) FROM pg_settings WHERE source = 'session') AS settings`,
  });
  return { ...db, session: session.key };
}

export function snapshotDifference(before: Record<string, string>, after: Record<string, string>): string | undefined {
  const changed = Object.keys(before).filter((k) => before[k] !== after[k]);
  if (changed.length === 0) return undefined;
  return changed.map((k) => `${k}: ${String(before[k]).slice(0, 120)} → ${String(after[k]).slice(0, 120)}`).join('; ');
}

/** A LISTEN connection on the channels the generator can name: any notification a read sends is a side effect. */
export async function listen(url: string, channels: readonly string[]): Promise<{ count(): number; close(): Promise<void> }> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  let n = 0;
  c.on('notification', () => n++);
  for (const ch of channels) await c.query(`LISTEN ${pg.escapeIdentifier(ch)}`);
  return { count: () => n, close: () => c.end().catch(() => undefined) };
}
