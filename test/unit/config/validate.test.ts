import { describe, expect, it } from 'vitest';
import { digestToken } from '../../../src/auth/tokens.js';
import { configSchema, validateConfig, type ConfigInput } from '../../../src/config/index.js';
import { DSN, TOKEN_A } from './helpers.js';

function base(): ConfigInput {
  return {
    databases: { main: { url: DSN, search_path: ['app'] } },
    principals: { analyst: { policy: 'analyst', tokens: [{ token: TOKEN_A }] } },
    policies: { analyst: { databases: { main: { schemas: ['app'] } } } },
  };
}

function check(input: ConfigInput, now?: Date): string[] {
  return validateConfig(configSchema.parse(input), now);
}

describe('validateConfig', () => {
  it('accepts a consistent config', () => {
    expect(check(base())).toEqual([]);
  });

  it('refuses unknown policies and databases, listing what exists', () => {
    const input = base();
    input.principals = { analyst: { policy: 'nope', tokens: [{ token: TOKEN_A }] } };
    input.policies = { analyst: { databases: { warehouse: {} } } };
    expect(check(input)).toEqual([
      'policies.analyst.databases.warehouse: unknown database "warehouse" (defined: main)',
      'principals.analyst.policy: unknown policy "nope" (defined: analyst)',
    ]);
  });

  it('refuses a short raw token, naming the principal and never the token', () => {
    const input = base();
    const short = 'short-token-123';
    input.principals = { analyst: { policy: 'analyst', tokens: [{ token: short }, { token: TOKEN_A }] } };
    const issues = check(input);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toContain('principals.analyst.tokens[0].token');
    expect(issues[0]).toContain('"analyst"');
    expect(issues[0]).toContain('pgwarden token');
    expect(issues.join('\n')).not.toContain(short);
  });

  it('refuses the same token (by digest) for two principals', () => {
    const input = base();
    input.principals = {
      analyst: { policy: 'analyst', tokens: [{ token: TOKEN_A }] },
      other: { policy: 'analyst', tokens: [{ sha256: digestToken(TOKEN_A).toUpperCase() }] },
    };
    const issues = check(input);
    expect(issues).toEqual(['principals.other.tokens[0]: the same token is already configured at principals.analyst.tokens[0]; every token must be distinct']);
  });

  it('refuses duplicate token ids and principal names differing only by case', () => {
    const input = base();
    input.principals = {
      analyst: { policy: 'analyst', tokens: [{ id: 'x', token: TOKEN_A }] },
      Analyst: { policy: 'analyst', tokens: [{ id: 'x', sha256: 'a'.repeat(64) }] },
    };
    const issues = check(input);
    expect(issues).toContain('principals.Analyst: differs from principal "analyst" only by case; principal names must be unique');
    expect(issues).toContain('principals.Analyst.tokens[0].id: token id "x" is already used at principals.analyst.tokens[0]');
  });

  it('refuses HTTP without any token and says how to create one; stdio needs none', () => {
    const input = base();
    input.principals = { analyst: { policy: 'analyst' } };
    const issues = check(input);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^principals: the http transport needs at least one token: run `pgwarden token`/);
    input.server = { transport: 'stdio' };
    expect(check(input)).toEqual([]);
  });

  it('refuses HTTP when every token has expired', () => {
    const input = base();
    input.principals = { analyst: { policy: 'analyst', tokens: [{ token: TOKEN_A, expires_at: '2020-01-01T00:00:00Z' }] } };
    expect(check(input, new Date('2021-01-01T00:00:00Z'))[0]).toMatch(/every configured token has expired/);
    expect(check(input, new Date('2019-01-01T00:00:00Z'))).toEqual([]);
  });

  it('checks search_path, schemas, roles, table patterns and description keys', () => {
    const input = base();
    input.databases = { main: { url: DSN, search_path: ['app', '$user', 'pg_temp', 'a b'] } };
    input.policies = {
      analyst: {
        databases: {
          main: {
            schemas: ['app;drop'],
            role: 'none',
            tables: { deny: ['staff_notes', 'internal.*'] },
            descriptions: { tables: { customers: 'x' }, columns: { 'app.customers.email': 'ok' } },
          },
        },
      },
    };
    const issues = check(input);
    expect(issues).toEqual([
      'databases.main.search_path[1]: $user is resolved at run time and cannot be pinned; name the schema',
      'databases.main.search_path[2]: pg_temp cannot be listed',
      'databases.main.search_path[3]: must be a plain name (letters, digits, _ $ -, starting with a letter or _)',
      'policies.analyst.databases.main.schemas[0]: must be a plain name (letters, digits, _ $ -, starting with a letter or _)',
      'policies.analyst.databases.main.tables.deny[0]: must be schema.table (use * within a part, e.g. app.* or internal.*)',
      'policies.analyst.databases.main.role: "none" is a reserved role name',
      'policies.analyst.databases.main.descriptions.tables.customers: must be a schema.table key',
    ]);
  });

  it('refuses a non-postgres URL without echoing it', () => {
    const input = base();
    input.databases = { main: { url: 'mysql://root:hunter2@db/x' } };
    const issues = check(input);
    expect(issues).toEqual(['databases.main.url: must be a postgres:// (or postgresql://) URL or a libpq key/value string such as "host=db port=5432 dbname=app user=u"']);
  });
});
