/**
 * The write executor: runs one planned write and records its undo journal entry in the SAME
 * transaction.
 *
 * Guarantees:
 * - One transaction, opened with the write hardening (session.ts: timeouts, pinned search_path,
 *   optional SET LOCAL ROLE and principal setting): capture → write → journal → COMMIT. A crash
 *   or kill anywhere before COMMIT leaves neither the write nor the journal entry; after COMMIT
 *   both exist. Agent-derived SQL (the plan's texts) only goes over the extended protocol.
 * - UPDATE: the before-images are captured with the plan's captureSql (FOR UPDATE, so nothing
 *   changes them between capture and write); the after-images come from the write's own
 *   RETURNING. DELETE: the removed rows come from RETURNING (exact by construction). INSERT: the
 *   inserted rows from RETURNING. Images are `row_to_json` of the row (exact text of every
 *   column type, json included), stored as json.
 * - Refusals roll everything back: more rows than `allowedRows` (BLAST_RADIUS_EXCEEDED), more
 *   images than max_capture_rows / max_capture_bytes (CAPTURE_TOO_LARGE: the server counts the
 *   image bytes as it sends the rows and withholds every image past the budget, so capture
 *   memory is bounded by max_capture_bytes whatever the size of one row), an UPDATE that changed
 *   a row whose before-image was not captured (WRITE_SET_CHANGED: a phantom or a key change),
 *   an approval that is no longer `executing` (APPROVAL_NOT_PENDING).
 * - Check and write see the same definitions: with plan.definitions, the target is locked (ROW
 *   EXCLUSIVE) first thing and the write facts of every relation the write was judged on are
 *   re-read and compared; a difference refuses (CATALOG_CHANGED) before anything ran.
 * - With `approvalId`, the approval row turns `executed` (with the undo id) in the same
 *   transaction: an approved write runs at most once.
 * - Journal rows are written as the gateway's login role (SET LOCAL ROLE NONE) with
 *   search_path = pg_catalog, after the agent's statement ran under the principal's role.
 * Does not: judge the statement (the guard and the planner do), measure the blast radius
 * beforehand (measure.ts), or write a journal entry for irreversible writes (`journal: false`,
 * only when the policy allows irreversible writes): those return undoId null.
 */
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import '../pg-load.js'; // before pg: loads it without its Cloudflare probe (issue #13, start-up)
import pg from 'pg';
import Cursor from 'pg-cursor';
import { GatewayError } from '../../errors/gateway-error.js';
import type { WritePlan } from '../../guard/write-plan.js';
import { definitionsDigest } from '../../guard/write/reach.js';
import { readWriteFacts } from '../catalog-writes.js';
import { extendedQuery, TRUSTED_SESSION_SQL, writeHardeningSql, type WriteDatabase } from './session.js';
import type { ExecuteWriteOptions, ExecuteWriteResult } from '../../shared/writes.js';

export type { ExecuteWriteOptions, ExecuteWriteResult } from '../../shared/writes.js';

/** SHA-256 (hex) of the exact statement text. */
export function statementDigest(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/** Test hook: PGWARDEN_TEST_PAUSE_BEFORE_COMMIT_MS pauses between the journal insert and COMMIT. */
function testPause(): (() => Promise<void>) | undefined {
  const raw = process.env.PGWARDEN_TEST_PAUSE_BEFORE_COMMIT_MS;
  const ms = raw === undefined ? NaN : Number(raw);
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return async () => {
    process.stderr.write('pgwarden-test: paused before commit\n');
    await new Promise((resolve) => setTimeout(resolve, ms));
  };
}

interface Image {
  image: string;
  key: string;
}

const BATCH = 500;

/** SQL for `json_build_array(alias.pk1, …)::text`: the row's key, comparable as text. */
function keyExpr(alias: string, pk: readonly string[]): string {
  return `json_build_array(${pk.map((c) => `${alias}.${pg.escapeIdentifier(c)}`).join(', ')})::text`;
}

interface ReadLimits {
  /** Refuse when more rows than this come back (code and message by caller). */
  maxRows: number;
  onTooManyRows: (rows: number) => GatewayError;
  /** Byte budget shared across reads. */
  budget: { left: number; max: number };
}

function captureTooLarge(what: string): GatewayError {
  return new GatewayError('CAPTURE_TOO_LARGE', `The images needed to undo this write exceed ${what}; nothing was written.`, { decision: 'block' });
}

/**
 * The image query around a source CTE (`WITH <cte> AS (…)`, data-modifying or not): each row's
 * image and key, and whether the running total of their bytes has passed `budget`. The SERVER
 * counts the bytes, in the order the rows are sent, and sends NULL instead of the image and key
 * of every row past the budget: a single huge row never crosses the wire, and the images held
 * here never exceed the budget (plus one batch of flags).
 */
function imageQuery(source: string, cte: string, pk: readonly string[], budget: number): string {
  const left = Math.max(0, Math.floor(budget));
  return `${source}, pgwarden_i AS (SELECT row_to_json(${cte}.*)::text AS image, ${keyExpr(cte, pk)} AS key FROM ${cte}),
  pgwarden_b AS (SELECT image, key, sum(octet_length(image) + octet_length(key)) OVER (ROWS UNBOUNDED PRECEDING) > ${left} AS over FROM pgwarden_i)
  SELECT CASE WHEN over THEN NULL ELSE image END AS image, CASE WHEN over THEN NULL ELSE key END AS key, over FROM pgwarden_b`;
}

async function readImages(client: pg.PoolClient, text: string, params: readonly unknown[], limits: ReadLimits): Promise<Image[]> {
  const cursor = client.query(new Cursor<Image & { over: boolean }>(text, [...params]));
  const out: Image[] = [];
  try {
    for (;;) {
      const rows = await new Promise<(Image & { over: boolean })[]>((resolve, reject) => {
        cursor.read(BATCH, (err, r) => (err ? reject(err) : resolve(r)));
      });
      for (const row of rows) {
        if (row.over) throw captureTooLarge(`max_capture_bytes (${limits.budget.max})`);
        out.push({ image: row.image, key: row.key });
        limits.budget.left -= Buffer.byteLength(row.image, 'utf8') + Buffer.byteLength(row.key, 'utf8');
      }
      if (out.length > limits.maxRows) throw limits.onTooManyRows(out.length);
      if (limits.budget.left < 0) throw captureTooLarge(`max_capture_bytes (${limits.budget.max})`);
      if (rows.length < BATCH) break;
    }
  } catch (err) {
    if (err instanceof GatewayError) await new Promise<void>((resolve) => cursor.close(() => resolve()));
    throw err;
  }
  await new Promise<void>((resolve, reject) => cursor.close((err) => (err ? reject(err) : resolve())));
  return out;
}

function assertPlan(plan: WritePlan, journal: boolean): void {
  if (!journal) return;
  if (!plan.reversible || plan.target.primaryKey.length === 0 || plan.kind === 'merge') {
    throw new GatewayError('NOT_REVERSIBLE', `The write to ${plan.target.schema}.${plan.target.name} cannot be recorded for undo${plan.irreversibleReasons.length > 0 ? `: ${plan.irreversibleReasons.join('; ')}` : ''}.`, { decision: 'block' });
  }
  if (plan.kind === 'update' && plan.captureSql === undefined) {
    throw new GatewayError('INTERNAL_ERROR', 'The write plan has no capture statement for an UPDATE.');
  }
}

/** Run one planned write with its undo journal entry (see the module header). */
export async function executeWrite(db: WriteDatabase, plan: WritePlan, options: ExecuteWriteOptions): Promise<ExecuteWriteResult> {
  const started = performance.now();
  const journal = options.journal ?? plan.reversible;
  assertPlan(plan, journal);
  const params = options.params ?? [];
  const allowed = options.allowedRows ?? Number.MAX_SAFE_INTEGER;
  const tooMany = (rows: number): GatewayError =>
    new GatewayError(
      'BLAST_RADIUS_EXCEEDED',
      `The write changed ${rows > allowed + 1 ? 'more than ' : ''}${rows} rows, more than the ${allowed} measured or approved before it ran; it was rolled back.`,
      { decision: 'block', fix: 'Send the write again so its blast radius is measured anew.' },
    );
  const undoId = journal ? randomUUID() : null;
  const pause = testPause();

  const rowCount = await db.transaction(
    writeHardeningSql(options.session),
    async (client) => {
      await assertDefinitions(client, plan);
      if (!journal) {
        const r = await client.query<{ n: string }>(extendedQuery(`WITH pgwarden_w AS (${plan.executeSql}) SELECT count(*) AS n FROM pgwarden_w`, params));
        const n = Number(r.rows[0]?.n ?? NaN);
        if (!Number.isSafeInteger(n)) throw new GatewayError('INTERNAL_ERROR', 'The write did not report a row count.');
        if (n > allowed) throw tooMany(n);
        await client.query(TRUSTED_SESSION_SQL);
        if (options.approvalId !== undefined) await finishApproval(client, db, options.approvalId, null, n);
        return n;
      }
      const pk = plan.target.primaryKey;
      const budget = { left: options.maxCaptureBytes, max: options.maxCaptureBytes };
      const rowLimit = Math.min(allowed, options.maxCaptureRows);
      const overLimit = (rows: number): GatewayError =>
        rows > allowed ? tooMany(rows) : captureTooLarge(`max_capture_rows (${options.maxCaptureRows})`);

      let captured: Image[] = [];
      if (plan.kind === 'update') {
        // Capture may see more rows than the write changes; it is bounded by the capture limit only.
        captured = await readImages(
          client,
          imageQuery(`WITH pgwarden_c AS MATERIALIZED (${plan.captureSql as string})`, 'pgwarden_c', pk, budget.left),
          params,
          { maxRows: options.maxCaptureRows, onTooManyRows: () => captureTooLarge(`max_capture_rows (${options.maxCaptureRows})`), budget },
        );
      }
      const returned = await readImages(
        client,
        imageQuery(`WITH pgwarden_w AS (${plan.executeSql})`, 'pgwarden_w', pk, budget.left),
        params,
        { maxRows: rowLimit, onTooManyRows: overLimit, budget },
      );

      let before: Image[] = [];
      let after: Image[] = [];
      if (plan.kind === 'delete') before = returned;
      else if (plan.kind === 'insert') after = returned;
      else {
        const byKey = new Map(captured.map((c) => [c.key, c]));
        const pairedBefore: Image[] = [];
        for (const row of returned) {
          const b = byKey.get(row.key);
          if (b === undefined) {
            throw new GatewayError('WRITE_SET_CHANGED', `The UPDATE changed a row of ${plan.target.schema}.${plan.target.name} whose before-image was not captured; it was rolled back.`);
          }
          pairedBefore.push(b);
        }
        before = pairedBefore;
        after = returned;
      }

      await client.query(TRUSTED_SESSION_SQL);
      await client.query(
        `INSERT INTO ${db.qualified('journal')} (undo_id, principal, database, statement_digest, normalized_sql, table_schema, table_name, kind, primary_key, before_images, after_images, row_count, approval_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[],
                 (SELECT coalesce(json_agg(x::json ORDER BY o), '[]'::json) FROM unnest($10::text[]) WITH ORDINALITY AS u(x, o)),
                 (SELECT coalesce(json_agg(x::json ORDER BY o), '[]'::json) FROM unnest($11::text[]) WITH ORDINALITY AS u(x, o)),
                 $12, $13)`,
        [
          undoId,
          options.principal,
          db.name,
          statementDigest(options.sql),
          options.normalizedSql,
          plan.target.schema,
          plan.target.name,
          plan.kind,
          pk,
          before.map((i) => i.image),
          after.map((i) => i.image),
          returned.length,
          options.approvalId ?? null,
        ],
      );
      if (options.approvalId !== undefined) await finishApproval(client, db, options.approvalId, undoId, returned.length);
      return returned.length;
    },
    pause === undefined ? {} : { beforeCommit: pause },
  );
  return { rowCount, undoId, elapsedMs: Math.round((performance.now() - started) * 1000) / 1000 };
}

/**
 * Check and write see the same definitions: lock the target in the mode the write takes anyway
 * (ROW EXCLUSIVE: CREATE TRIGGER, CREATE RULE, ALTER TABLE … ADD FOREIGN KEY and CREATE OR
 * REPLACE VIEW on it wait until this transaction ends), then re-read the write facts of every
 * relation the write was judged on and compare them with what the judgment saw. Different →
 * CATALOG_CHANGED, rolled back before anything ran.
 */
async function assertDefinitions(client: pg.PoolClient, plan: WritePlan): Promise<void> {
  if (plan.definitions === undefined) return;
  await client.query(`LOCK TABLE ${pg.escapeIdentifier(plan.target.schema)}.${pg.escapeIdentifier(plan.target.name)} IN ROW EXCLUSIVE MODE`);
  const facts = await readWriteFacts(client, plan.definitions.relations);
  if (definitionsDigest(plan.definitions.relations, (k) => facts.get(k)) !== plan.definitions.digest) {
    throw new GatewayError(
      'CATALOG_CHANGED',
      `Triggers, rules, views, foreign keys or inheritance of ${plan.target.schema}.${plan.target.name} or of the tables it reaches changed since the write was judged; nothing ran.`,
      { decision: 'block' },
    );
  }
}

async function finishApproval(client: pg.PoolClient, db: WriteDatabase, approvalId: string, undoId: string | null, rowCount: number): Promise<void> {
  const r = await client.query(
    `UPDATE ${db.qualified('approvals')} SET status = 'executed', finished_at = clock_timestamp(), result = jsonb_build_object('undoId', $2::text, 'rowCount', $3::int)
     WHERE approval_id = $1 AND status = 'executing'`,
    [approvalId, undoId, rowCount],
  );
  if (r.rowCount !== 1) {
    throw new GatewayError('APPROVAL_NOT_PENDING', 'The approval is no longer being executed by this request; the write was rolled back.');
  }
}
