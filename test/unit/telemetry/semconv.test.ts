import * as stable from '@opentelemetry/semantic-conventions';
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import { describe, expect, it } from 'vitest';
import * as sc from '../../../src/telemetry/semconv.js';

describe('semantic convention names', () => {
  it('match @opentelemetry/semantic-conventions', () => {
    const ours = Object.entries(sc).filter(([k]) => !/^(ATTR|METRIC)_(PRINCIPAL|REQUEST_ID|DATABASE|TOOL|DECISION|REASON|REASONS|STATEMENT_KIND|WRITE_KIND|FINGERPRINT|RELATIONS|FUNCTIONS|GUARD_|ROWS|TRUNCATED|TOOL_CALL|MASKED|BLAST|APPROVALS|DB_ACTIVE|AUDIT_|HTTP_REFUSALS|AUTH_FAILURES|RATE_LIMITED|BUILD_INFO)/.test(k));
    expect(ours.length).toBeGreaterThan(20);
    const theirs = { ...incubating, ...stable } as Record<string, unknown>;
    const mismatched = ours.filter(([k, v]) => theirs[k] !== v).map(([k, v]) => `${k}=${String(v)} (package: ${String(theirs[k])})`);
    expect(mismatched).toEqual([]);
  });

  it('keeps our own names under pgwarden.', () => {
    const known = new Set<unknown>(Object.values({ ...incubating, ...stable }));
    const own = Object.entries(sc).filter(([, v]) => !known.has(v));
    expect(own.map(([, v]) => v).filter((v) => !String(v).startsWith('pgwarden.'))).toEqual([]);
  });
});
