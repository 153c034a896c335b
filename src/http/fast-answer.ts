/**
 * How the tools/call fast path (mcp-route.ts) writes its answer on the hijacked raw response:
 * as the SDK's JSON leg writes it — status 200, content-type application/json and the body
 * `{"result":…,"jsonrpc":"2.0","id":…}` (the SDK's key order) — with a content-length instead of
 * chunks. The result comes as JSON parts (resultJson, src/mcp/server.ts).
 *
 * Guarantees: the bytes on the wire do not depend on which of the two ways below is taken
 * (test/unit/http/fast-answer.test.ts compares them, multi-byte text included):
 * - a small answer (parts of at most SMALL_ANSWER_CHARS UTF-16 units together: a point lookup's
 *   few hundred bytes) is one string handed to `end()`: Node prepends the header block to a
 *   string body and sends both in one write — no Buffer per part, no cork, no writev of several
 *   chunks (issue #13: per-call allocation and CPU on the HTTP answer);
 * - a larger one leaves as one Buffer per part after the head, corked into one writev: a result of
 *   megabytes is never joined into one more string or Buffer copy.
 * A failure to serialize propagates (the route answers 500 as for the SDK).
 * Does not: set the hook headers (the route copied them to the raw response before).
 */
import type { ServerResponse } from 'node:http';

/** Up to this many UTF-16 units of result JSON, the answer is joined into one string (one write with the head). */
export const SMALL_ANSWER_CHARS = 16 * 1024;

const RESULT_OPEN = '{"result":';
const RESULT_OPEN_BYTES = Buffer.from(RESULT_OPEN, 'utf8');

/** Write the answer; resolves to the status written (200). */
export async function writeFast(raw: ServerResponse, id: string | number, answer: Promise<readonly string[]>, smallChars = SMALL_ANSWER_CHARS): Promise<number> {
  const parts = await answer;
  if (raw.destroyed) return 200; // the client went away; nobody reads an answer
  // = JSON.stringify({ result, jsonrpc: '2.0', id })
  const tail = `,"jsonrpc":"2.0","id":${JSON.stringify(id)}}`;
  let chars = 0;
  for (const part of parts) chars += part.length;
  if (chars <= smallChars) {
    const body = RESULT_OPEN + parts.join('') + tail;
    raw.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body, 'utf8') });
    raw.end(body, 'utf8');
    return 200;
  }
  const chunks = [RESULT_OPEN_BYTES, ...parts.map((p) => Buffer.from(p, 'utf8')), Buffer.from(tail, 'utf8')];
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  raw.writeHead(200, { 'content-type': 'application/json', 'content-length': length });
  raw.cork();
  for (const chunk of chunks) raw.write(chunk);
  raw.end(); // uncorks: the head and the chunks go out together
  return 200;
}
