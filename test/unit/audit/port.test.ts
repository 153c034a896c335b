import { Writable } from 'node:stream';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createAuditSink } from '../../../src/audit/setup.js';
import type { AuditEventInput, AuditPort } from '../../../src/core/ports.js';
import { auditConfig, readRecords, tempDir } from './helpers.js';

describe('audit sink as the gateway port', () => {
  it('is an AuditPort, takes the gateway event shape, and logs through pino', async () => {
    const { dir, cleanup } = await tempDir();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) }));
    const file = join(dir, 'audit.ndjson');
    const port: AuditPort = createAuditSink(auditConfig({ sink: 'none' }), logger);
    expect(port.accepting()).toBe(true);
    expect(lines.join('')).toContain('audit log disabled');
    const sink: AuditPort = createAuditSink(auditConfig({ path: file }), logger);
    const event: AuditEventInput = {
      request_id: 'r1',
      principal: 'alice',
      tool: 'query',
      database: 'demo',
      decision: 'failed',
      reasons: ['STATEMENT_TIMEOUT'],
      normalized_sql: 'SELECT pg_sleep($1)',
      sqlstate: '57014',
      truncated: false,
      duration_ms: 5001,
    };
    sink.record(event);
    await sink.close();
    const [rec] = await readRecords(file);
    expect(rec).toMatchObject({ decision: 'failed', sqlstate: '57014', sql: 'SELECT pg_sleep($1)', truncated: false, reasons: ['STATEMENT_TIMEOUT'] });
    expect(sink.stats()).toMatchObject({ written: 1, healthy: true });
    await cleanup();
  });
});
