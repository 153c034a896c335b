/**
 * fastify onRequest hooks written as plain synchronous checks, run callback-style.
 *
 * An async hook costs a promise, fastify's then() on it and a microtask turn before the next hook
 * runs; /mcp runs several per request (issue #13). A check that does no I/O is written as a sync
 * function that returns or throws, and wrapped here: a throw goes to `done(err)`, which fastify
 * treats exactly as a rejected hook promise (the same error handler and reply).
 */
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';

/** A check that returns (pass) or throws (refuse: an HttpError, answered by the error handler). */
export type SyncCheck = (request: FastifyRequest, reply: FastifyReply) => void;

export function syncHook(check: SyncCheck): onRequestHookHandler {
  return function (this: unknown, request, reply, done) {
    try {
      check(request, reply);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  };
}
