/**
 * The fast path's answer writer (src/http/fast-answer.ts): the one-string way (small answers) and
 * the Buffer-per-part way (large ones) put the same bytes on the wire — status line, headers,
 * content-length and body — and the body is `JSON.stringify({ result, jsonrpc, id })`.
 * Multi-byte text makes a content-length counted in UTF-16 units instead of bytes fail.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_ANSWER_CHARS, writeFast } from '../../../src/http/fast-answer.js';

interface Case {
  parts: string[];
  id: string | number;
  small: number;
}
let current: Case = { parts: [], id: 0, small: 0 };
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('x-request-id', 'r-1');
      void writeFast(res, current.id, Promise.resolve(current.parts), current.small);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The raw bytes of one answer (its Date header blanked), read until the server closes the socket. */
async function rawAnswer(c: Case): Promise<Buffer> {
  current = c;
  const socket = connect(port, '127.0.0.1');
  socket.write('POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.from(Buffer.concat(chunks).toString('latin1').replace(/\r\nDate: [^\r]*/i, '\r\nDate: -'), 'latin1');
}

const RESULTS: Array<{ label: string; result: unknown }> = [
  { label: 'a point lookup', result: { content: [{ type: 'text', text: '{"rows":[{"id":7}]}' }], structuredContent: { rows: [{ id: 7 }] } } },
  { label: 'multi-byte text', result: { text: '😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀 é ü — 中文', rows: ['\u2028', '"q"', '\\'], tail: '😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀' } },
  { label: 'a large result', result: { rows: Array.from({ length: 3000 }, (_, i) => ({ i, s: `név ${i} ✓` })) } },
];

/** The result as resultJson hands it over: JSON in several parts (whole code points each, as resultJson's JSON values are). */
function partsOf(result: unknown): string[] {
  const json = JSON.stringify(result);
  const at = (i: number): number => (/[\uDC00-\uDFFF]/.test(json[i] ?? '') ? i + 1 : i);
  const cut = [0, at(Math.floor(json.length / 3)), at(Math.floor((2 * json.length) / 3)), json.length];
  return [json.slice(cut[0], cut[1]), json.slice(cut[1], cut[2]), json.slice(cut[2], cut[3])];
}

describe('writeFast: one string or Buffers per part, the same bytes', () => {
  for (const { label, result } of RESULTS) {
    for (const id of [7, 'a"b\\c é', 0, -3]) {
      it(`${label}, id ${JSON.stringify(id)}`, async () => {
        const parts = partsOf(result);
        const joined = await rawAnswer({ parts, id, small: Number.POSITIVE_INFINITY });
        const chunked = await rawAnswer({ parts, id, small: -1 });
        expect(joined.equals(chunked)).toBe(true);
        const text = joined.toString('utf8');
        const [head, body] = [text.slice(0, text.indexOf('\r\n\r\n')), text.slice(text.indexOf('\r\n\r\n') + 4)];
        expect(body).toBe(JSON.stringify({ result, jsonrpc: '2.0', id }));
        expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        expect(head).toContain('\r\ncontent-type: application/json\r\n');
        expect(head).toContain(`\r\ncontent-length: ${Buffer.byteLength(body, 'utf8')}`);
        expect(head).toContain('x-request-id: r-1');
      });
    }
  }
  it('the default bound takes a point lookup as one string, a large result as parts', () => {
    expect(partsOf(RESULTS[0]!.result).join('').length).toBeLessThanOrEqual(SMALL_ANSWER_CHARS);
    expect(partsOf(RESULTS[2]!.result).join('').length).toBeGreaterThan(SMALL_ANSWER_CHARS);
  });
});
