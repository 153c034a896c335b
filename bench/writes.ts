/**
 * Guarded writes benchmark: the undo round trip (execute with same-transaction journal, then
 * revert) and the blast-radius count, against a throwaway PostgreSQL with the demo schema.
 * Prints figures; asserts nothing.
 *
 *   npx tsx bench/writes.ts [--pg-bin DIR]     (or through `npm run bench`: runUndoBench())
 *
 * Environment: BENCH_WRITES_N (iterations per row, default 300).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { DEFAULT_LIMITS } from '../src/config/schema.js';
import { ensureWriteSchema, executeWrite, measureBlastRadius, revertWrite, WriteDatabase } from '../src/db/writes/index.js';
import type { WritePlan } from '../src/guard/write-plan.js';
import { formatTable, heading, percentile, startBenchDatabase, type Cell } from './support.js';

const session = { limits: { ...DEFAULT_LIMITS }, searchPath: ['app'] };
const caps = { maxCaptureRows: 10_000, maxCaptureBytes: 16 * 1024 * 1024 };
const target = { schema: 'app', name: 'support_tickets', alias: 't', primaryKey: ['id'] };

function update(where: string, set: string): WritePlan {
  return {
    kind: 'update',
    target,
    countSql: `SELECT count(*) FROM app.support_tickets AS t WHERE ${where}`,
    captureSql: `SELECT t.* FROM app.support_tickets AS t WHERE ${where} FOR UPDATE OF t`,
    executeSql: `UPDATE app.support_tickets AS t SET ${set} WHERE ${where} RETURNING t.*`,
    reversible: true,
    irreversibleReasons: [],
  };
}

function del(where: string): WritePlan {
  return { kind: 'delete', target, countSql: `SELECT count(*) FROM app.support_tickets AS t WHERE ${where}`, executeSql: `DELETE FROM app.support_tickets AS t WHERE ${where} RETURNING t.*`, reversible: true, irreversibleReasons: [] };
}

interface Row {
  name: string;
  samples: number[];
}

function row(r: Row): Cell[] {
  const s = [...r.samples].sort((a, b) => a - b);
  return [r.name, s.length, percentile(s, 50), percentile(s, 99)];
}

async function timed(n: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

/** The undo round trip and blast-radius figures. Starts and removes its own PostgreSQL unless `url` (an admin DSN to a seeded demo database) is given. */
export async function runUndoBench(options: { binDir?: string; print?: (line?: string) => void } = {}): Promise<Record<string, { p50: number; p99: number }>> {
  const print = options.print ?? ((line = '') => void process.stdout.write(line + '\n'));
  const n = Math.max(10, Math.min(5_000, Number(process.env.BENCH_WRITES_N ?? 300) || 300));
  const bench = await startBenchDatabase(options.binDir !== undefined ? { binDir: options.binDir } : {});
  const admin = new pg.Client({ connectionString: bench.seeded.databaseUrl });
  await admin.connect();
  const pool = new pg.Pool({ connectionString: bench.seeded.gatewayUrl, max: 2 });
  const db = new WriteDatabase(pool, { name: 'bench' });
  const rows: Row[] = [];
  try {
    const g = pg.escapeIdentifier(bench.seeded.gatewayRole);
    await admin.query(`GRANT CREATE ON DATABASE bench TO ${g}; GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO ${g}; GRANT USAGE ON ALL SEQUENCES IN SCHEMA app TO ${g}`);
    await ensureWriteSchema(db);
    const id = (i: number): number => 1 + (i % 120);

    // Floor: the same one-row UPDATE in a plain transaction, no capture, no journal.
    const plainClient = await pool.connect();
    rows.push({
      name: 'plain UPDATE 1 row (BEGIN/UPDATE/COMMIT, floor)',
      samples: await timed(n, async (i) => {
        await plainClient.query('BEGIN');
        await plainClient.query({ text: 'UPDATE app.support_tickets SET priority = priority WHERE id = $1', values: [id(i)] });
        await plainClient.query('COMMIT');
      }),
    });
    plainClient.release();

    const exec: number[] = [];
    const rev: number[] = [];
    const round: number[] = [];
    for (let i = 0; i < n; i++) {
      const plan = update(`t.id = ${id(i)}`, "priority = 'bench'");
      const t0 = performance.now();
      const r = await executeWrite(db, plan, { session, principal: 'bench', sql: plan.executeSql, normalizedSql: plan.executeSql, ...caps, allowedRows: 1 });
      const t1 = performance.now();
      await revertWrite(db, r.undoId as string, { by: 'bench' });
      const t2 = performance.now();
      exec.push(t1 - t0);
      rev.push(t2 - t1);
      round.push(t2 - t0);
    }
    rows.push({ name: 'executeWrite UPDATE 1 row (capture + journal)', samples: exec }, { name: 'revertWrite of it (conflict check + restore + journal)', samples: rev }, { name: 'undo round trip UPDATE 1 row (execute + revert)', samples: round });

    const delRound = await timed(n, async (i) => {
      const r = await executeWrite(db, del(`t.id = ${id(i)}`), { session, principal: 'bench', sql: 'd', normalizedSql: 'd', ...caps });
      await revertWrite(db, r.undoId as string, { by: 'bench' });
    });
    rows.push({ name: 'undo round trip DELETE 1 row (execute + revert)', samples: delRound });

    const m = Math.max(10, Math.floor(n / 5));
    const wide = await timed(m, async () => {
      const plan = update("t.priority IN ('low', 'normal')", 'closed_at = t.closed_at');
      const r = await executeWrite(db, plan, { session, principal: 'bench', sql: 'u', normalizedSql: 'u', ...caps });
      await revertWrite(db, r.undoId as string, { by: 'bench' });
    });
    rows.push({ name: 'undo round trip UPDATE 60 rows (execute + revert)', samples: wide });

    const rawCount = await timed(n, async (i) => {
      await admin.query({ text: 'SELECT count(*) FROM app.support_tickets AS t WHERE t.id = $1', values: [id(i)] });
    });
    rows.push({ name: 'raw SELECT count(*) point predicate (floor)', samples: rawCount });
    rows.push({
      name: 'blast radius: point predicate (count, read-only tx)',
      samples: await timed(n, async (i) => {
        await measureBlastRadius(db, update(`t.id = ${id(i)}`, 'x = 1'), { session });
      }),
    });
    rows.push({
      name: 'blast radius: scan predicate, 120-row table',
      samples: await timed(n, async () => {
        await measureBlastRadius(db, update("t.priority = 'urgent'", 'x = 1'), { session });
      }),
    });
    rows.push({
      name: 'blast radius: execute-rollback (opt-in), 1 row',
      samples: await timed(n, async (i) => {
        await measureBlastRadius(db, update(`t.id = ${id(i)}`, 'priority = t.priority'), { session, method: 'execute-rollback' });
      }),
    });

    print(heading(`Guarded writes (bench/writes.ts) — PostgreSQL ${bench.version}`));
    print(formatTable(['operation', 'n', 'p50 ms', 'p99 ms'], rows.map(row), [0, 0, 3, 3]));
    print();
    print('One connection, sequential calls. The journal insert and capture add round trips to the same transaction;');
    print('revert locks the journal row, checks every recorded row against its after-image, restores and journals itself.');
  } finally {
    await db.end();
    await pool.end().catch(() => undefined);
    await admin.end().catch(() => undefined);
    await bench.stop();
  }
  const out: Record<string, { p50: number; p99: number }> = {};
  for (const r of rows) {
    const s = [...r.samples].sort((a, b) => a - b);
    out[r.name] = { p50: percentile(s, 50), p99: percentile(s, 99) };
  }
  return out;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const { values } = parseArgs({ options: { 'pg-bin': { type: 'string' } }, strict: true });
  runUndoBench(values['pg-bin'] !== undefined ? { binDir: values['pg-bin'] } : {}).catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
