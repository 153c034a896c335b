/**
 * The process logger: pino writing to stderr (stdout is the MCP channel under stdio).
 *
 * Guarantees: one JSON object per line, `time` as ISO-8601 UTC; authorization headers, tokens, passwords and DSNs are redacted by path wherever
 * pino sees them; nothing in pgwarden logs SQL literals (callers log normalized SQL only).
 */
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'password',
  '*.password',
  'url',
  '*.url',
  'dsn',
  '*.dsn',
];

export function createLogger(level: string = 'info', destination: pino.DestinationStream = pino.destination({ fd: 2, sync: false })): Logger {
  // ISO-8601 UTC times ("time":"2026-12-07T01:23:45.678Z"): what log shippers and people read
  // without conversion; pino's default is epoch milliseconds.
  return pino({ level, base: { service: 'pgwarden' }, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACT_PATHS, censor: '***' } }, destination);
}
