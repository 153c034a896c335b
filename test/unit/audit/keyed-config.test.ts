import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactConfig } from '../../../src/config/index.js';
import { KEY } from './helpers.js';

const BASE = `
databases:
  main:
    url: postgres://reader@db.example/shop
principals:
  analyst:
    policy: analyst
    tokens:
      - token: tok-a-0123456789abcdefghijklmnopqrstuvwxyz
policies:
  analyst:
    databases:
      main: {}
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgwarden-audit-config-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function load(auditYaml: string, env: NodeJS.ProcessEnv = {}) {
  const path = join(dir, 'c.yaml');
  await writeFile(path, `${BASE}audit:\n${auditYaml}\n`);
  return loadConfig({ path, env });
}

async function loadError(auditYaml: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    await load(auditYaml, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return String((err as ConfigError).message) + JSON.stringify(err);
  }
  throw new Error('expected a ConfigError');
}

describe('audit.hmac_key in the configuration', () => {
  it('is optional: unset means unkeyed', async () => {
    expect((await load('  sink: file')).audit.hmac_key).toBeUndefined();
  });

  it('takes ${VAR}, hmac_key_file and file: indirection', async () => {
    await writeFile(join(dir, 'audit.key'), `${KEY}\n`, { mode: 0o600 });
    expect((await load('  hmac_key: ${PGWARDEN_AUDIT_KEY}', { PGWARDEN_AUDIT_KEY: KEY })).audit.hmac_key).toBe(KEY);
    expect((await load('  hmac_key_file: ./audit.key')).audit.hmac_key).toBe(KEY);
    expect((await load('  hmac_key: file:./audit.key')).audit.hmac_key).toBe(KEY);
  });

  it('refuses a key shorter than 32 characters, naming the path but not the value', async () => {
    const short = 'too-short-audit-key-0123';
    const text = await loadError(`  hmac_key: ${short}`);
    expect(text).toContain('audit.hmac_key');
    expect(text).toMatch(/at least 32 characters/);
    expect(text).not.toContain(short);
  });

  it('is printed as *** by the redacted configuration (serve --dry-run)', async () => {
    const config = await load('  hmac_key: ${PGWARDEN_AUDIT_KEY}', { PGWARDEN_AUDIT_KEY: KEY });
    const printed = stringify(redactConfig(config));
    expect(printed).not.toContain(KEY);
    expect(printed).toMatch(/hmac_key: "?\*\*\*"?/);
    expect(config.audit.hmac_key).toBe(KEY); // the original is untouched
  });

  it('has no implicit environment fallback: PGWARDEN_AUDIT_KEY alone does not key the sink', async () => {
    expect((await load('  sink: file', { PGWARDEN_AUDIT_KEY: KEY })).audit.hmac_key).toBeUndefined();
  });
});
