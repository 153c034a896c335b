/**
 * One error catalogue (issue #15 item 4): the HTTP layer's codes are entries of the reason
 * catalogue (src/guard/reasons.ts) with an `http` answer, so RATE_LIMITED, SHUTTING_DOWN and
 * INTERNAL_ERROR exist once; framework errors are mapped by fastify code or type, never by
 * message text. The statuses and JSON-RPC codes are pinned as they were before the merge.
 */
import { describe, expect, it } from 'vitest';
import { REASONS } from '../../../src/guard/reasons.js';
import { classifyError, errorBody, HTTP_ERRORS } from '../../../src/http/errors.js';

const fe = (code: string | undefined, statusCode: number, message = 'x'): Error => Object.assign(new Error(message), { code, statusCode });

describe('the HTTP view of the one catalogue', () => {
  it('has exactly the HTTP codes, each with its status and JSON-RPC code as before the merge', () => {
    const view = Object.fromEntries(Object.entries(HTTP_ERRORS).map(([c, d]) => [c, [d.status, d.rpc]]));
    expect(view).toEqual({
      SHUTTING_DOWN: [503, -32000],
      RATE_LIMITED: [429, -32000],
      INTERNAL_ERROR: [500, -32603],
      UNAUTHENTICATED: [401, -32001],
      INVALID_TOKEN: [401, -32001],
      FORBIDDEN_HOST: [403, -32000],
      FORBIDDEN_ORIGIN: [403, -32000],
      NOT_FOUND: [404, -32600],
      METHOD_NOT_ALLOWED: [405, -32000],
      PAYLOAD_TOO_LARGE: [413, -32600],
      UNSUPPORTED_MEDIA_TYPE: [415, -32600],
      INVALID_JSON: [400, -32700],
      INVALID_REQUEST: [400, -32600],
    });
  });

  it('takes fix and message from the catalogue entry (the HTTP message only where it differs)', () => {
    for (const [code, d] of Object.entries(HTTP_ERRORS)) {
      const def = REASONS[code as keyof typeof REASONS];
      expect(d.fix, code).toBe(def.fix);
      expect(d.message, code).toBe('http' in def && def.http && 'message' in def.http ? def.http.message : def.summary);
    }
    expect(HTTP_ERRORS.RATE_LIMITED.message).toBe('Too many requests.');
    expect(errorBody('INTERNAL_ERROR', 'r1').error).toEqual({ code: -32603, message: 'Internal error.', data: { code: 'INTERNAL_ERROR', fix: REASONS.INTERNAL_ERROR.fix, requestId: 'r1' } });
  });
});

describe('classifyError maps by code and type, not by message text', () => {
  it("fastify's JSON parser failures (prototype poisoning included) carry FST_ERR_CTP_INVALID_JSON_BODY", () => {
    expect(classifyError(fe('FST_ERR_CTP_INVALID_JSON_BODY', 400, 'Body is not valid JSON but content-type is set to \'application/json\'')).code).toBe('INVALID_JSON');
    expect(classifyError(new SyntaxError('Object contains forbidden prototype property')).code).toBe('INVALID_JSON');
  });

  it('a 400 without a known code is INVALID_REQUEST whatever its message says', () => {
    expect(classifyError(fe(undefined, 400, 'bad JSON near __proto__ constructor')).code).toBe('INVALID_REQUEST');
    expect(classifyError(fe('FST_ERR_SOMETHING_NEW', 400, 'JSON')).code).toBe('INVALID_REQUEST');
  });
});
