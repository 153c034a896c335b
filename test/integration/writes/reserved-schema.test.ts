/**
 * The gateway's own schema (undo journal, approvals) is denied to agents whatever the policy
 * says: directly, through a view, and under a renamed journal schema.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Guard } from '../../../src/guard/index.js';
import type { Decision, GuardRequest } from '../../../src/guard/types.js';
import { demoCatalog, demoPolicy, guardRequest, testGuard } from '../../unit/guard/fixtures/catalog.js';

let guard: Guard;
let version = 9_000;
beforeAll(async () => {
  guard = await testGuard();
});
const decide = (sql: string, o: Partial<GuardRequest> = {}): Decision => guard.decide(guardRequest(sql, { policyVersion: version++, ...o }));
const codes = (d: Decision): string[] => d.reasons.map((r) => r.code);

const catalog = demoCatalog({
  relations: [
    { schema: 'pgwarden', name: 'journal', kind: 'table' },
    { schema: 'pgwarden', name: 'approvals', kind: 'table' },
    { schema: 'gwstate', name: 'journal', kind: 'table' },
    { schema: 'app', name: 'journal_peek', kind: 'view', dependsOn: ['pgwarden.journal'] },
  ],
  schemas: ['pgwarden', 'gwstate'],
  version: 77,
});
// A policy that (wrongly) exposes everything, the gateway schema included.
const permissive = demoPolicy({ schemas: ['app', 'pgwarden', 'gwstate'], tables: { allow: ['*.*'], deny: [] } });

describe('reserved schemas', () => {
  it('pgwarden.* is DENIED_SCHEMA by default even when the policy lists the schema and allows every table', () => {
    const d = decide('SELECT * FROM pgwarden.journal', { catalog, policy: permissive });
    expect(d.decision).toBe('block');
    expect(codes(d)).toEqual(['DENIED_SCHEMA']);
    expect(codes(decide('SELECT approval_id FROM pgwarden.approvals', { catalog, policy: permissive }))).toEqual(['DENIED_SCHEMA']);
  });

  it('an unqualified name reached through search_path is denied too', () => {
    const d = decide('SELECT * FROM approvals', { catalog, policy: permissive, searchPath: ['pgwarden'] });
    expect(d.decision).toBe('block');
    expect(codes(d)).toContain('DENIED_SCHEMA');
  });

  it('a view reading the journal is refused', () => {
    const d = decide('SELECT * FROM app.journal_peek', { catalog, policy: permissive });
    expect(d.decision).toBe('block');
  });

  it('follows the configured journal schema (reservedSchemas)', () => {
    expect(codes(decide('SELECT * FROM gwstate.journal', { catalog, policy: permissive, reservedSchemas: ['gwstate'] }))).toEqual(['DENIED_SCHEMA']);
    // with the name changed, pgwarden is an ordinary schema again (the policy decides)
    expect(decide('SELECT * FROM gwstate.journal', { catalog, policy: permissive }).decision).toBe('allow');
  });

  it('ordinary tables stay allowed', () => {
    expect(decide('SELECT * FROM app.orders', { catalog, policy: permissive }).decision).toBe('allow');
  });
});
