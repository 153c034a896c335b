/**
 * fastToolCallOf asks the SDK's era classifier once per canonical shape (src/http/fast-call.ts).
 * Pinned here: over ids, arguments and protocol-version headers, a body takes the fast path
 * exactly when the SDK's classifier, run on that very body, routes it to the 2025-era leg.
 */
import { describe, expect, it } from 'vitest';
import { classifyInboundRequest, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { fastToolCallOf } from '../../../src/http/fast-call.js';

const IDS: (string | number)[] = ['', 'a', 'x'.repeat(300), '0', 0, 1, 7, 2 ** 31 - 1, 2 ** 31, -1, -0, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
const ARGS: (Record<string, unknown> | undefined)[] = [undefined, {}, { sql: 'SELECT 1' }, { _meta: { progressToken: 1 } }];
const VERSIONS: (string | undefined)[] = [undefined, ...SUPPORTED_PROTOCOL_VERSIONS, '2026-07-28', '2099-01-01'];

describe('fastToolCallOf: the classifier verdict per shape is the verdict per body', () => {
  it('takes a body exactly when the SDK classifies it as 2025-era (and the version header is supported)', () => {
    let taken = 0;
    for (const version of VERSIONS) {
      for (const id of IDS) {
        for (const args of ARGS) {
          for (const name of ['query', 'status']) {
            const body = { jsonrpc: '2.0', id, method: 'tools/call', params: { name, ...(args === undefined ? {} : { arguments: args }) } };
            const headers = {
              accept: 'application/json, text/event-stream',
              'content-type': 'application/json',
              ...(version === undefined ? {} : { 'mcp-protocol-version': version }),
            };
            const sdkLegacy = classifyInboundRequest({ httpMethod: 'POST', body, ...(version === undefined ? {} : { protocolVersionHeader: version }) }).kind === 'legacy';
            const supported = version === undefined || (SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(version);
            const fast = fastToolCallOf(headers, JSON.parse(JSON.stringify(body)) as unknown);
            const label = JSON.stringify({ version, id, args, name });
            if (fast !== undefined) {
              taken++;
              expect(sdkLegacy, label).toBe(true);
              expect(fast, label).toEqual({ id: JSON.parse(JSON.stringify(id)) as unknown, name, arguments: args, protocolVersionHeader: version });
            } else {
              // declined: the SDK would not route it to the legacy leg, or the header is not one it supports
              expect(!sdkLegacy || !supported, label).toBe(true);
            }
          }
        }
      }
    }
    expect(taken).toBeGreaterThan(100);
  });

  it('modern-era and unsupported headers are never taken, whatever the id', () => {
    for (const id of IDS) {
      for (const version of ['2026-07-28', '2099-01-01']) {
        const body = { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'query', arguments: {} } };
        expect(fastToolCallOf({ accept: 'application/json, text/event-stream', 'content-type': 'application/json', 'mcp-protocol-version': version }, body)).toBeUndefined();
      }
    }
  });
});
