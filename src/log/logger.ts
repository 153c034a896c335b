/**
 * The process logger: pino writing to stderr (stdout is the MCP channel under stdio).
 *
 * Guarantees: authorization headers, tokens, passwords and DSNs are redacted by path wherever
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
  return pino({ level, base: { service: 'pgwarden' }, redact: { paths: REDACT_PATHS, censor: '***' } }, destination);
}
