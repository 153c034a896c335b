/**
 * JSON bodies: nesting depth is bounded before the body is parsed.
 *
 * Guarantees: an application/json body nested deeper than MAX_JSON_DEPTH arrays/objects is
 * refused 400 INVALID_REQUEST (JSON-RPC -32600) by a linear scan of the raw text, before
 * JSON.parse runs and long before the MCP SDK (whose JSON.stringify recursion overflowed the
 * stack on ~4,500 levels and answered 500). Bodies within the limit are parsed by fastify's own
 * JSON parser (prototype and constructor poisoning refused as before).
 * Does not: bound breadth (the body limit does) or check the JSON-RPC shape (the SDK does).
 */
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';

/** Deepest nesting of arrays/objects accepted in a request body (an MCP message needs < 10). */
export const MAX_JSON_DEPTH = 64;

/**
 * Whether `text` nests arrays/objects deeper than `max` (strings are skipped, escapes honoured).
 * Linear and allocation free; invalid JSON is left for the parser to refuse.
 */
export function exceedsJsonDepth(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i += 1;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth -= 1;
  }
  return false;
}

/** Replace fastify's application/json parser by the same parser behind the depth check. */
export function registerJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (exceedsJsonDepth(text, MAX_JSON_DEPTH)) {
      done(new HttpError('INVALID_REQUEST', { message: `Invalid request: the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`, data: { maxDepth: MAX_JSON_DEPTH } }), undefined);
      return;
    }
    parse(request, text, done);
  });
}
