/**
 * What an agent observes of one call, normalized for comparison between the twins: the tool
 * result (decision, reason codes and messages, rows, columns and types, truncation, counts, blast
 * radius, hold or refusal, error code and message) minus what differs between any two calls
 * (request ids, timings, undo/approval ids and timestamps).
 */
import type { Client } from '@modelcontextprotocol/client';
import { callTool } from '../support/gateway.js';

const VOLATILE_KEYS = new Set(['requestId', 'elapsedMs', 'undoId', 'approvalId', 'createdAt', 'expiresAt', 'confirmationId', 'requestState']);

export interface Observation {
  isError: boolean;
  /** The normalized structured content. */
  body: unknown;
  /** Its canonical JSON (the comparison key). */
  key: string;
  codes: string[];
  /** The structured content as returned (undo ids included). */
  raw: Record<string, unknown>;
}

function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) {
      if (VOLATILE_KEYS.has(k)) continue;
      out[k] = normalize((v as Record<string, unknown>)[k]);
    }
    return out;
  }
  return v;
}

export async function observe(client: Client, tool: string, args: Record<string, unknown>): Promise<Observation> {
  let out;
  try {
    out = await callTool(client, tool, args);
  } catch (err) {
    const body = { protocolError: err instanceof Error ? err.message : String(err) };
    return { isError: true, body, key: JSON.stringify(body), codes: ['PROTOCOL_ERROR'], raw: body };
  }
  const body = normalize(out.structured);
  const reasons = ((out.structured.reasons ?? []) as { code?: string }[]).map((r) => String(r.code));
  return { isError: out.isError, body, key: JSON.stringify(body), codes: reasons, raw: out.structured };
}

/** Timing outcomes: when one twin times out and the other does not, the pair says nothing. */
export function timingDependent(o: Observation): boolean {
  return o.codes.some((c) => c === 'STATEMENT_TIMEOUT' || c === 'LOCK_TIMEOUT' || c === 'QUERY_CANCELED' || c === 'DATABASE_UNAVAILABLE' || c === 'POOL_EXHAUSTED');
}

/** The first path where two JSON values differ, for a readable report. */
export function firstDifference(a: unknown, b: unknown, path = '$'): string {
  if (JSON.stringify(a) === JSON.stringify(b)) return '';
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d !== '') return d;
    }
  }
  const show = (x: unknown): string => (JSON.stringify(x) ?? 'undefined').slice(0, 160);
  return `${path}: ${show(a)} ≠ ${show(b)}`;
}
