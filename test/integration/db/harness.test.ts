import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { clusterUnavailable, createScratchDatabase, startCluster, testDatabase } from '../../support/postgres.js';

async function one<T>(url: string, sql: string): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows[0] as T;
  } finally {
    await c.end();
  }
}

describe('test harness', () => {
  it('provides a seeded demo database and a least-privilege gateway role', async () => {
    const t = testDatabase();
    expect(t.serverVersionNum).toBeGreaterThanOrEqual(150000);
    const row = await one<{ n: string; who: string; su: boolean }>(
      t.gatewayUrl,
      "SELECT count(*) AS n, current_user AS who, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su FROM app.customers",
    );
    expect(row).toEqual({ n: '200', who: t.gatewayRole, su: false });
  });

  it('clones scratch databases from the template', async () => {
    const db = await createScratchDatabase();
    try {
      const row = await one<{ n: string }>(db.gatewayUrl, 'SELECT count(*) AS n FROM app.orders');
      expect(row.n).toBe('1000');
    } finally {
      await db.drop();
    }
  });

  it('starts a private cluster that can be restarted', async (ctx) => {
    ctx.skip(clusterUnavailable() !== undefined, clusterUnavailable());
    const cluster = await startCluster({ seed: true });
    try {
      await cluster.restart();
      const row = await one<{ n: string }>(cluster.gatewayUrl as string, 'SELECT count(*) AS n FROM app.products');
      expect(row.n).toBe('50');
    } finally {
      await cluster.dispose();
    }
  });
});
