/** Pure parts of the HTTP layer: host policy, exposure warnings, trust proxy, error mapping, ids, context. */
import { describe, expect, it } from 'vitest';
import { serverSchema } from '../../../src/config/schema.js';
import { trustProxyOption } from '../../../src/http/app.js';
import { wwwAuthenticate } from '../../../src/http/auth.js';
import { buildAuthInfo, callSignal, httpRequestContext } from '../../../src/http/context.js';
import { classifyError, errorBody, HttpError } from '../../../src/http/errors.js';
import { hostPolicy, isLoopbackBind, normalizeHostEntry, normalizeOriginEntry } from '../../../src/http/host-check.js';
import { Lifecycle, RequestCancelledError } from '../../../src/http/lifecycle.js';
import { genRequestId } from '../../../src/http/logging.js';
import { singleFlightReadiness } from '../../../src/http/probes.js';
import { exposureWarnings } from '../../../src/http/server.js';
import type { IncomingMessage } from 'node:http';

const cfg = (o: Record<string, unknown> = {}) => serverSchema.parse(o);

describe('host policy', () => {
  it('recognises loopback binds', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackBind(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'gw.example.com', '128.0.0.1']) expect(isLoopbackBind(h), h).toBe(false);
  });

  it('normalizes entries', () => {
    expect(normalizeHostEntry('GW.Example.com:8443')).toBe('gw.example.com');
    expect(normalizeHostEntry('::1')).toBe('[::1]');
    expect(normalizeHostEntry('[::1]:80')).toBe('[::1]');
    expect(normalizeOriginEntry('https://App.example.com:3000')).toBe('app.example.com');
    expect(normalizeOriginEntry('moz-extension://*')).toBe('moz-extension://*');
  });

  it('defaults: loopback bind → loopback names; other bind → any Host, no Origin', () => {
    expect(hostPolicy(cfg())).toEqual({ hosts: ['localhost', '127.0.0.1', '[::1]'], origins: ['localhost', '127.0.0.1', '[::1]'] });
    expect(hostPolicy(cfg({ host: '0.0.0.0' }))).toEqual({ hosts: undefined, origins: [] });
    expect(hostPolicy(cfg({ host: '0.0.0.0', allowed_hosts: ['gw.example.com'] }))).toEqual({
      hosts: ['gw.example.com'],
      origins: ['gw.example.com'],
    });
  });

  it('exposure warnings only for non-loopback binds', () => {
    expect(exposureWarnings(cfg())).toEqual([]);
    const open = exposureWarnings(cfg({ host: '0.0.0.0' }));
    expect(open.join('\n')).toMatch(/reachable from the network/);
    expect(open.join('\n')).toMatch(/allowed_hosts is empty/);
    expect(exposureWarnings(cfg({ host: '0.0.0.0', allowed_hosts: ['gw'] })).join('\n')).not.toMatch(/allowed_hosts is empty/);
  });
});

describe('trust proxy', () => {
  it('maps a hop count to "trust the n nearest hops"', () => {
    const fn = trustProxyOption(1);
    expect(typeof fn).toBe('function');
    if (typeof fn === 'function') {
      expect(fn('10.0.0.1', 0)).toBe(true);
      expect(fn('10.0.0.2', 1)).toBe(false);
    }
    expect(trustProxyOption(false)).toBe(false);
    expect(trustProxyOption('10.0.0.0/8, 127.0.0.1')).toBe('10.0.0.0/8, 127.0.0.1');
  });
});

describe('errors', () => {
  it('maps framework errors to catalogue codes, unknown to INTERNAL_ERROR', () => {
    const fe = (code: string, statusCode: number) => Object.assign(new Error('x'), { code, statusCode });
    expect(classifyError(fe('FST_ERR_CTP_BODY_TOO_LARGE', 413)).code).toBe('PAYLOAD_TOO_LARGE');
    expect(classifyError(fe('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415)).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(classifyError(fe('FST_ERR_CTP_INVALID_JSON_BODY', 400)).code).toBe('INVALID_JSON');
    expect(classifyError(new SyntaxError('Unexpected token')).code).toBe('INVALID_JSON');
    expect(classifyError(new Error('secret internals')).code).toBe('INTERNAL_ERROR');
    expect(classifyError(new Error('secret internals')).message).not.toContain('secret');
  });

  it('bodies are JSON-RPC errors with a stable string code', () => {
    expect(errorBody('RATE_LIMITED', 'r1')).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32000, message: 'Too many requests.', data: { code: 'RATE_LIMITED', fix: expect.any(String), requestId: 'r1' } },
    });
    expect(new HttpError('INVALID_TOKEN').statusCode).toBe(401);
  });

  it('WWW-Authenticate follows RFC 6750', () => {
    expect(wwwAuthenticate('missing')).toBe('Bearer realm="pgwarden"');
    expect(wwwAuthenticate('expired')).toMatch(/^Bearer realm="pgwarden", error="invalid_token", error_description="[^"]+"$/);
  });
});

describe('request ids', () => {
  const req = (id?: string) => ({ headers: id === undefined ? {} : { 'x-request-id': id } }) as unknown as IncomingMessage;
  it('keeps sane ids and replaces others', () => {
    expect(genRequestId(req('abc-1.2:3_x'))).toBe('abc-1.2:3_x');
    for (const bad of ['', 'a b', 'x'.repeat(129), 'a\nb', '<script>']) expect(genRequestId(req(bad))).toMatch(/^[0-9a-f-]{36}$/);
    expect(genRequestId(req())).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('request context', () => {
  it('round-trips through AuthInfo without the raw token', () => {
    const ac = new AbortController();
    const info = buildAuthInfo({ principal: 'alice', tokenId: 'alice-1', requestId: 'r', signal: ac.signal, clientAddress: '127.0.0.1' });
    expect(info.token).toBe('alice-1');
    expect(info.clientId).toBe('alice');
    expect(httpRequestContext(info)).toMatchObject({ principal: 'alice', tokenId: 'alice-1', requestId: 'r' });
    expect(httpRequestContext(undefined)).toBeUndefined();
    expect(httpRequestContext({ token: 't', clientId: 'c', scopes: [], extra: { principal: 1 } })).toBeUndefined();
  });

  it('callSignal combines the HTTP and MCP signals', () => {
    const http = new AbortController();
    const mcp = new AbortController();
    const info = buildAuthInfo({ principal: 'a', tokenId: 't', requestId: 'r', signal: http.signal, clientAddress: 'x' });
    const s1 = callSignal(info, mcp.signal)!;
    mcp.abort();
    expect(s1.aborted).toBe(true);
    const s2 = callSignal(info, new AbortController().signal)!;
    http.abort(new RequestCancelledError('shutdown'));
    expect(s2.aborted).toBe(true);
    expect((s2.reason as RequestCancelledError).reason).toBe('shutdown');
    expect(callSignal(undefined, mcp.signal)).toBe(mcp.signal);
  });
});

describe('lifecycle', () => {
  it('tracks, drains and cancels', async () => {
    const l = new Lifecycle();
    expect(await l.waitForIdle(10)).toBe(true);
    const a = new AbortController();
    const release = l.track(a);
    expect(l.inFlight).toBe(1);
    expect(await l.waitForIdle(20)).toBe(false);
    l.beginShutdown();
    expect(l.shuttingDown).toBe(true);
    expect(l.cancelAll('shutdown')).toBe(1);
    expect(a.signal.reason).toBeInstanceOf(RequestCancelledError);
    const idle = l.waitForIdle(1_000);
    release();
    release();
    expect(await idle).toBe(true);
    expect(l.inFlight).toBe(0);
  });
});

describe('readiness', () => {
  it('treats throws and hangs as not ready and shares concurrent checks', async () => {
    expect(await singleFlightReadiness(() => Promise.reject(new Error('db down')))()).toBe(false);
    expect(await singleFlightReadiness(() => new Promise<boolean>(() => undefined), 30)()).toBe(false);
    let calls = 0;
    const r = singleFlightReadiness(async () => {
      calls += 1;
      await new Promise((res) => setTimeout(res, 20));
      return true;
    });
    expect(await Promise.all([r(), r(), r()])).toEqual([true, true, true]);
    expect(calls).toBe(1);
  });
});
