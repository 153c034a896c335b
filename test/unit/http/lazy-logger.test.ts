/** The per-request lazy child logger (issue #13): built on its first enabled line, then exactly pino's child. */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { httpLogger, lazyChildLogger } from '../../../src/http/logging.js';

function capture(): { base: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { base: pino({ level: 'info' }, stream), lines };
}

describe('lazyChildLogger', () => {
  it('builds no pino child for a request that logs nothing at an enabled level', () => {
    const { base } = capture();
    const http = httpLogger(base);
    const child = vi.spyOn(http, 'child');
    const req = lazyChildLogger(http, { requestId: 'r1' });
    const auth = req.child({ principal: 'alice', tokenId: 't1' });
    const rpc = auth.child({ rpc: { method: 'tools/call' } });
    rpc.debug('not at info');
    rpc.trace({ x: 1 }, 'nor this');
    expect(child).not.toHaveBeenCalled();
  });

  it('writes the same line as the eager chain, bindings and redaction included', () => {
    const lazyOut = capture();
    const eagerOut = capture();
    const lazyReq = lazyChildLogger(httpLogger(lazyOut.base), { requestId: 'r1' }).child({ principal: 'alice' }).child({ rpc: { method: 'tools/call' } });
    const eagerReq = httpLogger(eagerOut.base).child({ requestId: 'r1' }).child({ principal: 'alice' }).child({ rpc: { method: 'tools/call' } });
    for (const l of [lazyReq, eagerReq]) l.warn({ headers: { authorization: 'Bearer pgw_secret_0123456789abcdefghijklmnop' }, reason: 'x' }, 'refused');
    const strip = (o: Record<string, unknown> | undefined): Record<string, unknown> => {
      const { time: _t, pid: _p, ...rest } = o ?? {};
      return rest;
    };
    expect(lazyOut.lines).toHaveLength(1);
    expect(strip(lazyOut.lines[0])).toEqual(strip(eagerOut.lines[0]));
    expect(lazyOut.lines[0]).toMatchObject({ requestId: 'r1', principal: 'alice', rpc: { method: 'tools/call' }, component: 'http', headers: { authorization: '[redacted]' } });
    expect(JSON.stringify(lazyOut.lines)).not.toContain('pgw_secret');
  });

  it('follows the level of the logger it was taken from (a reload that raises the level)', () => {
    const { base, lines } = capture();
    const req = lazyChildLogger(base, { requestId: 'r2' });
    req.debug('off');
    base.level = 'debug';
    req.debug('on');
    expect(lines.map((l) => l.msg)).toEqual(['on']);
    expect(req.isLevelEnabled('debug')).toBe(true);
  });
});
