import pg from 'pg';
import { databaseSchema, DEFAULT_LIMITS, type ResolvedLimits } from '../../../src/config/schema.js';
import { DatabasePool, type DatabasePoolOptions } from '../../../src/db/pool.js';

export function poolFor(url: string, overrides: Record<string, unknown> = {}, options: DatabasePoolOptions = {}): DatabasePool {
  const config = databaseSchema.parse({ url, search_path: ['app'], application_name: 'pgwarden-test', ...overrides });
  return new DatabasePool(config, options);
}

export function limits(overrides: Partial<ResolvedLimits> = {}): ResolvedLimits {
  return { ...DEFAULT_LIMITS, ...overrides };
}

export async function adminQuery<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Poll until fn() is true or the deadline passes; returns the last value. */
export async function eventually(fn: () => Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}
