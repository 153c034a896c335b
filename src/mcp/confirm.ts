/**
 * In-client confirmation of small writes over MCP (writes.confirm_in_client): instead of holding
 * a write for an operator, ask the human at the client (an input-required result carrying a
 * form elicitation, protocol revision 2026-07-28) and run the write on the retried call.
 *
 * Guarantees: the confirmation id travels only inside request state signed with HMAC-SHA-256
 * (the SDK's createRequestStateCodec; the key is derived from server.state_key when configured, so
 * every replica verifies what another minted, else a per-process random key; expiry =
 * confirm_in_client.ttl_ms)
 * and bound to the database and the exact statement; state that fails verification, belongs to
 * another statement or database, or carries no accept answer yields a redeem with an empty id or
 * accepted=false, which the core refuses (CONFIRMATION_INVALID) after consuming whatever
 * confirmation it names. The durable half (single use, principal + digest binding, expiry across
 * replicas) is src/db/writes/confirmations.ts; re-judging and re-measuring is src/core/writes.ts.
 * Does not: share a random key between replicas (without server.state_key, a retry that reaches
 * another replica is refused and the agent simply sends the write again), or offer confirmation to
 * 2025-era clients (the
 * stateless HTTP fallback has no channel for a server→client elicitation; they get the hold).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { inputRequired, inputResponse, type InputRequiredResult, type McpServer, type ServerContext } from '@modelcontextprotocol/server';
import { createRequestStateCodec, type RequestStateCodec } from '@modelcontextprotocol/server';
import type { InClientConfirm } from '../core/writes.js';
import type { Refusal } from '../core/results.js';

/** What the signed request state carries (readable by the client, not forgeable). */
interface ConfirmState {
  /** Confirmation id (pgwarden.confirmations). */
  c: string;
  /** Rows the human was shown. */
  r: number;
  /** Database name. */
  d: string;
  /** sha256 of the exact statement text. */
  s: string;
}

/** Used when no server.state_key is configured: valid only within this process. */
const PROCESS_KEY = randomBytes(32);
const codecs = new Map<string, RequestStateCodec<ConfirmState>>();

/**
 * The signing key: derived from the configured secret (domain-separated, so the same secret used
 * elsewhere never yields this key), or the per-process random key.
 */
function signingKey(secret: string | undefined): Buffer {
  return secret === undefined ? PROCESS_KEY : createHmac('sha256', secret).update('pgwarden/request-state/confirm/v1').digest();
}

function codec(ttlMs: number, secret: string | undefined): RequestStateCodec<ConfirmState> {
  const ttlSeconds = Math.max(1, Math.ceil(ttlMs / 1000));
  // the cache key never holds the secret itself
  const id = `${ttlSeconds}:${secret === undefined ? '-' : createHash('sha256').update(secret, 'utf8').digest('hex')}`;
  let c = codecs.get(id);
  if (!c) {
    c = createRequestStateCodec<ConfirmState>({ key: signingKey(secret), ttlSeconds });
    codecs.set(id, c);
  }
  return c;
}

const sqlDigest = (sql: string): string => createHash('sha256').update(sql, 'utf8').digest('hex');

const INPUT_KEY = 'confirm_write';
const DEFAULT_TTL_MS = 120_000;

/** True when the client declared the elicitation capability (form mode) for this request. */
export function clientCanConfirm(server: McpServer, ctx: ServerContext): boolean {
  const fromEnvelope = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.['io.modelcontextprotocol/clientCapabilities'] as
    | { elicitation?: { form?: unknown } }
    | undefined;
  const caps = fromEnvelope ?? server.server.getClientCapabilities();
  const elicitation = caps?.elicitation as { form?: unknown; url?: unknown } | undefined;
  if (!elicitation) return false;
  // An empty object means form mode (spec); a client that declares only url cannot answer a form.
  return elicitation.form !== undefined || elicitation.url === undefined;
}

/** A retried call carries request state: the redeem to hand the core (never trusting the client). */
export async function readRedeem(
  ctx: ServerContext,
  input: { sql: string; database: string | undefined; stateKey?: string | undefined },
): Promise<InClientConfirm | undefined> {
  const raw = ctx.mcpReq.requestState<unknown>();
  if (raw === undefined) return undefined;
  let state: ConfirmState | undefined;
  try {
    // The expiry is inside the signed envelope, so any codec with the key verifies it.
    state = typeof raw === 'string' ? await codec(DEFAULT_TTL_MS, input.stateKey).verify(raw, ctx) : undefined;
  } catch {
    state = undefined;
  }
  const valid =
    state !== undefined &&
    typeof state.c === 'string' &&
    typeof state.r === 'number' &&
    Number.isInteger(state.r) &&
    state.s === sqlDigest(input.sql) &&
    (input.database === undefined || state.d === input.database);
  const answer = inputResponse(ctx.mcpReq.inputResponses, INPUT_KEY);
  const accepted = answer.kind === 'elicit' && answer.action === 'accept' && answer.content?.confirm === true;
  if (!valid || !state) return { redeem: { confirmationId: '', rows: 0, accepted } };
  return { redeem: { confirmationId: state.c, rows: state.r, accepted } };
}

/** Turn a core "confirm in client" outcome into an input-required result asking the human. */
export async function confirmationPrompt(
  refusal: Refusal & { confirmation: NonNullable<Refusal['confirmation']> },
  input: { sql: string; ttlMs: number; stateKey?: string | undefined },
): Promise<InputRequiredResult> {
  const c = refusal.confirmation;
  const state = await codec(input.ttlMs, input.stateKey).mint({ c: c.confirmationId, r: c.rows, d: c.database, s: sqlDigest(input.sql) });
  return inputRequired({
    inputRequests: {
      [INPUT_KEY]: inputRequired.elicit({
        message: `Run this write? ${c.normalizedSql} — ${c.rows} row${c.rows === 1 ? '' : 's'} in ${c.table} (database ${c.database}). It can be undone with revert.`,
        requestedSchema: {
          type: 'object',
          properties: { confirm: { type: 'boolean', title: 'Run the write', description: 'Check to run this write once.' } },
          required: ['confirm'],
        },
      }),
    },
    requestState: state,
  });
}
