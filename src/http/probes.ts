/**
 * Liveness and readiness probes: GET/HEAD /health, /livez, /ready, /readyz.
 *
 * Guarantees: unauthenticated, not rate limited, exempt from Host/Origin checks (kubelets
 * probe by pod IP); liveness never touches a database; readiness is 503 as soon as shutdown
 * begins, and otherwise reflects `readiness()` — a throw, or no answer within
 * READINESS_TIMEOUT_MS, counts as not ready. Concurrent readiness probes share one check.
 * Bodies are only `{"status":"ok"}` / `{"status":"unavailable"}`: nothing internal leaks.
 * Does not: cache the readiness answer between probes.
 */
import type { FastifyInstance } from 'fastify';
import type { Lifecycle } from './lifecycle.js';

export const READINESS_TIMEOUT_MS = 2_000;

export function singleFlightReadiness(readiness: () => Promise<boolean>, timeoutMs = READINESS_TIMEOUT_MS): () => Promise<boolean> {
  let inflight: Promise<boolean> | undefined;
  return () => {
    if (inflight !== undefined) return inflight;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    const check = Promise.resolve()
      .then(readiness)
      .then((v) => v === true)
      .catch(() => false);
    inflight = Promise.race([check, timeout]).finally(() => {
      clearTimeout(timer);
      inflight = undefined;
    });
    return inflight;
  };
}

export function registerProbes(app: FastifyInstance, readiness: () => Promise<boolean>, lifecycle: Lifecycle): void {
  const ready = singleFlightReadiness(readiness);
  const headers = { 'cache-control': 'no-store' };

  for (const url of ['/health', '/livez']) {
    app.get(url, async (_request, reply) => reply.headers(headers).send({ status: 'ok' }));
  }
  for (const url of ['/ready', '/readyz']) {
    app.get(url, async (request, reply) => {
      const ok = !lifecycle.shuttingDown && (await ready()) && !lifecycle.shuttingDown;
      if (!ok) request.log.info({ shuttingDown: lifecycle.shuttingDown }, 'not ready');
      return reply
        .headers(headers)
        .code(ok ? 200 : 503)
        .send({ status: ok ? 'ok' : 'unavailable' });
    });
  }
}
