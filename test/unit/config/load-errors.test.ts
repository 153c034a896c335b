/**
 * Configuration mistakes an operator makes, caught when the file loads (issue #16): DSNs that
 * cannot connect, libpq key/value DSNs, template placeholder and low-entropy tokens, one form of
 * every token in --dry-run, and a missing file that says what was looked for.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeDsn } from '../../../src/config/dsn.js';
import { ConfigError, loadConfig, parseConfig, redactConfig, type ConfigInput } from '../../../src/config/index.js';
import { estimatedBits, tokenWeakness } from '../../../src/config/token-strength.js';
import { DSN, TOKEN_A } from './helpers.js';

function input(over: Partial<ConfigInput> = {}): ConfigInput {
  return {
    databases: { main: { url: DSN, search_path: ['app'] } },
    principals: { analyst: { policy: 'analyst', tokens: [{ token: TOKEN_A }] } },
    policies: { analyst: { databases: { main: { schemas: ['app'] } } } },
    ...over,
  };
}

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  return [];
}

describe('DSNs are checked when the configuration loads', () => {
  it.each([
    ['postgres://u:pw@db:54x2/app', 'the port must be a number from 1 to 65535'],
    ['postgres://u:pw@db:99999/app', 'the port must be a number from 1 to 65535'],
    ['postgres://u:pw@db:0/app', 'the port must be a number from 1 to 65535'],
    ['mysql://u:pw@db/app', 'must be a postgres:// (or postgresql://) URL or a libpq key/value string'],
    ['host=db port=abc dbname=app password=pw', 'the port must be a number from 1 to 65535'],
    ["host=db dbname=app password='unterminated", 'has no closing quote'],
    ['host=db service=prod password=pw', 'keyword "service" is not supported'],
    ['just some words', 'is neither a postgres:// URL nor a libpq key/value string'],
  ])('%s is refused at load with what to fix, never echoing the password', (url, message) => {
    const issues = issuesOf(() => parseConfig(input({ databases: { main: { url, search_path: ['app'] } } })));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toContain('databases.main.url: ');
    expect(issues[0]).toContain(message);
    expect(issues[0]).not.toContain('pw');
  });

  it('accepts a libpq key/value DSN and turns it into the equivalent URL, quoting preserved', () => {
    const config = parseConfig(
      input({ databases: { main: { url: "host=db.internal port=6432 dbname=app user=pgwarden_ro password='p@ss w/\\'q' sslmode=require", search_path: ['app'] } } }),
    );
    const url = new URL(config.databases.main?.url as string);
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('db.internal');
    expect(url.port).toBe('6432');
    expect(url.pathname).toBe('/app');
    expect(decodeURIComponent(url.username)).toBe('pgwarden_ro');
    expect(decodeURIComponent(url.password)).toBe("p@ss w/'q");
    expect(url.searchParams.get('sslmode')).toBe('require');
  });

  it('keeps a socket directory host in ?host=', () => {
    const r = normalizeDsn('host=/var/run/postgresql dbname=app user=u');
    expect(r.ok).toBe(true);
    const url = new URL((r as { url: string }).url);
    expect(url.searchParams.get('host')).toBe('/var/run/postgresql');
    expect(url.pathname).toBe('/app');
  });

  it('leaves a valid URL untouched', () => {
    expect(normalizeDsn('postgres://u:p%40@db:5432/app?sslmode=verify-full')).toEqual({ ok: true, url: 'postgres://u:p%40@db:5432/app?sslmode=verify-full' });
  });
});

describe('weak tokens are refused with the way to make a strong one', () => {
  it.each([
    ['the .env.example placeholder', 'replace-with-at-least-32-random-characters'],
    ['a "change me" token', 'changeme-changeme-changeme-changeme-1234'],
    ['one repeated character', 'x'.repeat(40)],
    ['a short repeated phrase', 'abc123abc123abc123abc123abc123abc123'],
  ])('%s', (_label, token) => {
    const why = tokenWeakness(token);
    expect(why).toBeDefined();
    expect(why).toContain('pgwarden token');
    const issues = issuesOf(() => parseConfig(input({ principals: { analyst: { policy: 'analyst', tokens: [{ token }] } } })));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toContain('principals.analyst.tokens[0].token');
    expect(issues.join('\n')).not.toContain(token);
  });

  it('operator tokens are judged the same way', () => {
    const issues = issuesOf(() => parseConfig(input({ operators: { ops: { tokens: [{ token: 'replace-with-at-least-32-random-characters' }] } } })));
    expect(issues).toEqual([expect.stringContaining('operators.ops.tokens[0].token: the token of operator "ops" looks like a placeholder')]);
  });

  it('random tokens pass: pgwarden token, 32 base64url characters, 128 hex bits', async () => {
    const { randomBytes } = await import('node:crypto');
    const { generateToken } = await import('../../../src/auth/tokens.js');
    for (let i = 0; i < 2000; i++) {
      expect(tokenWeakness(generateToken())).toBeUndefined();
      expect(tokenWeakness(randomBytes(24).toString('base64url'))).toBeUndefined();
      expect(tokenWeakness(randomBytes(16).toString('hex'))).toBeUndefined();
    }
    expect(estimatedBits('ab'.repeat(20))).toBeCloseTo(40);
  });
});

describe('--dry-run shows every token one way', () => {
  it('agent and operator raw tokens both become digest prefixes; no raw token is kept', () => {
    const operatorToken = 'pgw_operator_0123456789abcdefghijklmnopqrstuvw';
    const config = parseConfig(input({ operators: { ops: { tokens: [{ token: operatorToken }] } } }));
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toContain(operatorToken);
    expect(printed).not.toContain(TOKEN_A);
    const agentToken = config.principals.analyst?.tokens[0];
    const opToken = config.operators.ops?.tokens[0];
    expect(agentToken?.token).toBeUndefined();
    expect(opToken?.token).toBeUndefined();
    const redacted = redactConfig(config);
    expect(redacted.principals.analyst?.tokens[0]?.sha256).toMatch(/^[0-9a-f]{12}…$/);
    expect(redacted.operators.ops?.tokens[0]?.sha256).toMatch(/^[0-9a-f]{12}…$/);
  });
});

describe('a missing configuration file', () => {
  it('says what was looked for and how to create one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgwarden-cfg-'));
    await writeFile(join(dir, 'other.yaml'), 'databases: {}\n');
    const missing = join(dir, 'nope.yaml');
    const err = await loadConfig({ path: missing, env: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as ConfigError).issues.join('\n');
    expect(text).toContain(missing);
    expect(text).toContain('no such file');
    expect(text).toContain('config/pgwarden.yaml');
    expect(text).toContain('DATABASE_URL');
  });
});
