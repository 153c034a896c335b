/**
 * DNS-rebinding and cross-origin defense for /mcp: Host and Origin allow-lists.
 *
 * Guarantees (applied to every route except the probes, which kubelets call by pod IP):
 * - Host: with server.allowed_hosts set, only those host names (port-agnostic, case-insensitive)
 *   pass; with it empty and a loopback bind, only localhost / 127.0.0.1 / [::1]; with it empty
 *   and a non-loopback bind, any Host passes (startHttpServer logs a warning).
 * - Origin (sent by browsers only; a request without one passes): with server.allowed_origins
 *   set, only those; else on a loopback bind only loopback origins; else origins whose host is in
 *   server.allowed_hosts; with neither, any present Origin is refused (fail closed).
 * - A refusal is 403 with FORBIDDEN_HOST / FORBIDDEN_ORIGIN; the offending value is not echoed.
 * Does not: authenticate anyone (bearer auth runs after this), or check TLS / X-Forwarded-Host.
 */
import { localhostAllowedHostnames, localhostAllowedOrigins, validateHostHeader, validateOriginHeader } from '@modelcontextprotocol/server';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { ServerConfig } from '../config/schema.js';
import { HttpError } from './errors.js';
import { syncHook } from './hooks.js';
import { isProbe } from './logging.js';

export interface HostPolicy {
  /** Allowed Host names; undefined: any Host. */
  hosts: string[] | undefined;
  /** Allowed Origin host names (or `<scheme>://*` entries); an empty list refuses every present Origin. */
  origins: string[];
}

/** Whether a bind address only accepts local connections. */
export function isLoopbackBind(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** `gw.example.com:8443` → `gw.example.com`; `::1` → `[::1]`; lowercased. */
export function normalizeHostEntry(entry: string): string {
  const e = entry.trim().toLowerCase();
  if (e.startsWith('[')) return e.slice(0, e.indexOf(']') + 1);
  if ((e.match(/:/g) ?? []).length > 1) return `[${e}]`; // bare IPv6
  const colon = e.indexOf(':');
  return colon === -1 ? e : e.slice(0, colon);
}

/** `https://app.example.com:3000` → `app.example.com`; `moz-extension://*` kept; bare names normalized. */
export function normalizeOriginEntry(entry: string): string {
  const e = entry.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\/\*$/.test(e)) return e;
  if (e.includes('://')) {
    try {
      return new URL(e).hostname.toLowerCase();
    } catch {
      return e.toLowerCase();
    }
  }
  return normalizeHostEntry(e);
}

export function hostPolicy(server: Pick<ServerConfig, 'host' | 'allowed_hosts' | 'allowed_origins'>): HostPolicy {
  const loopback = isLoopbackBind(server.host);
  const hosts =
    server.allowed_hosts.length > 0 ? server.allowed_hosts.map(normalizeHostEntry) : loopback ? localhostAllowedHostnames() : undefined;
  const origins =
    server.allowed_origins.length > 0
      ? server.allowed_origins.map(normalizeOriginEntry)
      : loopback
        ? localhostAllowedOrigins()
        : (hosts ?? []);
  return { hosts, origins };
}

/** Distinct Host values whose verdict is remembered (then the memo starts over). */
const HOST_MEMO_SIZE = 64;

/**
 * The SDK's validateHostHeader, remembered per Host value: it is a pure function of the value and
 * the fixed allow-list, and parses a URL on every call (issue #13: ≈ 1 µs and a URL object per
 * request, for the one or two Host values a deployment sees). Bounded: a client sending many
 * distinct values only empties the memo, each value is still judged by the SDK.
 */
export function memoHostCheck(hosts: string[]): (host: string | undefined) => ReturnType<typeof validateHostHeader> {
  const memo = new Map<string, ReturnType<typeof validateHostHeader>>();
  return (host) => {
    if (host === undefined) return validateHostHeader(host, hosts);
    let verdict = memo.get(host);
    if (verdict === undefined) {
      verdict = validateHostHeader(host, hosts);
      if (memo.size >= HOST_MEMO_SIZE) memo.clear();
      memo.set(host, verdict);
    }
    return verdict;
  };
}

/** onRequest hook enforcing the policy (probes exempt). */
export function hostCheckHook(policy: HostPolicy): onRequestHookHandler {
  const checkHost = policy.hosts === undefined ? undefined : memoHostCheck(policy.hosts);
  return syncHook(function hostCheck(request: FastifyRequest): void {
    if (isProbe(request.url)) return;
    if (checkHost !== undefined) {
      const r = checkHost(request.headers.host);
      if (!r.ok) {
        request.log.warn({ reason: r.errorCode, hostname: r.hostname?.slice(0, 100) }, 'refused Host header');
        throw new HttpError('FORBIDDEN_HOST');
      }
    }
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== '') {
      const r = validateOriginHeader(origin, policy.origins);
      if (!r.ok) {
        request.log.warn({ reason: r.errorCode, hostname: r.hostname?.slice(0, 100) }, 'refused Origin header');
        throw new HttpError('FORBIDDEN_ORIGIN');
      }
    }
  });
}
