import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';

describe('the process logger', () => {
  it('writes JSON lines with time as ISO-8601 UTC and redacts tokens', async () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString('utf8');
        cb();
      },
    });
    const log = createLogger('info', sink);
    log.info({ token: 'pgw_secret_0123456789abcdefghijklmnopqrstuvwxyz' }, 'hello');
    await new Promise((r) => setImmediate(r));
    const record = JSON.parse(out.trim()) as { time: string; token: string; msg: string };
    expect(record.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Math.abs(Date.parse(record.time) - Date.now())).toBeLessThan(60_000);
    expect(record.token).toBe('***');
    expect(record.msg).toBe('hello');
  });
});
