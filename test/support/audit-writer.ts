/**
 * A separate pgwarden process appending to an audit file (for the multi-process audit tests):
 *
 *   node --import tsx test/support/audit-writer.ts PATH ID COUNT [MAX_BYTES]
 *
 * Records COUNT events with request ids ID-0 … ID-(COUNT-1) through the real file sink, in small
 * bursts with pauses (so several processes interleave), then closes the sink and exits 0 when
 * every record was written. PGWARDEN_AUDIT_KEY set: keyed records. Start barrier: writes
 * PATH.ready-ID once its sink is open, then waits for PATH.go to exist.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { createAuditSink } from '../../src/audit/index.js';
import { auditSchema } from '../../src/config/schema.js';

const [path, id, countText, maxBytesText] = process.argv.slice(2);
if (path === undefined || id === undefined || countText === undefined) throw new Error('usage: audit-writer PATH ID COUNT [MAX_BYTES]');
const count = Number(countText);
const key = process.env.PGWARDEN_AUDIT_KEY;
const config = auditSchema.parse({
  sink: 'file',
  path,
  fsync: 'never',
  max_bytes: maxBytesText === undefined ? 0 : Number(maxBytesText),
  max_files: 1000,
  ...(key ? { hmac_key: key } : {}),
});
const quiet = { warn: () => undefined, info: () => undefined, error: (o: object, m?: string) => process.stderr.write(`${m ?? ''} ${JSON.stringify(o)}\n`) };
const sink = createAuditSink(config, quiet);
await sink.ready();
// start barrier: say we are ready, wait for the test's go (so the processes really overlap)
writeFileSync(`${path}.ready-${id}`, '');
while (!existsSync(`${path}.go`)) await new Promise((r) => setTimeout(r, 5));
const started = Date.now();
for (let i = 0; i < count; i++) {
  sink.record({ decision: 'allowed', request_id: `${id}-${i}`, principal: id, tool: 'query', database: 'demo', kind: 'read', normalized_sql: 'SELECT $1' });
  // ~1 s in all, pauses longer than the lease's idle hold (20 ms): the writers give the lock up
  // and take turns many times, so their records usually interleave in the file
  if (i % 10 === 9) await new Promise((r) => setTimeout(r, 30 + Math.random() * 20));
}
const flushed = await sink.flush(30_000);
const ended = Date.now();
await sink.close();
const s = sink.stats();
process.stdout.write(`${JSON.stringify({ flushed, written: s.written, dropped: s.dropped, started, ended })}\n`);
process.exitCode = flushed && s.written === count && s.dropped === 0 ? 0 : 1;
