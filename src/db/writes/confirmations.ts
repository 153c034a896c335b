/**
 * Single-use confirmations for in-client write confirmation (elicitation / input-required).
 *
 * Guarantees: a confirmation is bound to (principal, database, statement digest) and expires
 * after a short TTL; consumeConfirmation() deletes it atomically (DELETE … RETURNING), so it can
 * be used at most once, across replicas, and only by the same principal for the same exact
 * statement before it expires.
 * Does not: talk to the MCP client or sign request state (the MCP layer does); it is the
 * durable, server-side half of the check.
 */
import { randomUUID } from 'node:crypto';
import { statementDigest } from './execute.js';
import type { WriteDatabase } from './session.js';
import type { Confirmation, ConfirmationRedeem, NewConfirmation } from '../../shared/writes.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Issue a confirmation for `sql` (exact text); returns its id and expiry. */
export async function createConfirmation(db: WriteDatabase, input: NewConfirmation): Promise<Confirmation> {
  const id = randomUUID();
  return await db.trusted(async (c) => {
    const r = await c.query<{ expires_at: Date }>(
      `INSERT INTO ${db.qualified('confirmations')} (confirmation_id, principal, database, digest, expires_at)
       VALUES ($1, $2, $3, $4, clock_timestamp() + make_interval(secs => $5::float8 / 1000)) RETURNING expires_at`,
      [id, input.principal, db.name, statementDigest(input.sql), Math.max(1, Math.floor(input.ttlMs))],
    );
    return { confirmationId: id, expiresAt: (r.rows[0] as { expires_at: Date }).expires_at.toISOString() };
  });
}

/** Use a confirmation: true exactly once, for the same principal, database and statement, before expiry. */
export async function consumeConfirmation(db: WriteDatabase, input: ConfirmationRedeem): Promise<boolean> {
  if (!UUID.test(input.confirmationId)) return false;
  return await db.trusted(async (c) => {
    const r = await c.query(
      `DELETE FROM ${db.qualified('confirmations')}
       WHERE confirmation_id = $1 AND principal = $2 AND database = $3 AND digest = $4 AND expires_at > clock_timestamp()`,
      [input.confirmationId, input.principal, db.name, statementDigest(input.sql)],
    );
    return r.rowCount === 1;
  });
}
