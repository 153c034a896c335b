import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestToken } from '../../../src/auth/tokens.js';
import { ConfigError, configVersion, loadConfig, parseConfig } from '../../../src/config/index.js';
import { DSN, MINIMAL_YAML, TOKEN_A, TOKEN_B, tempFiles } from './helpers.js';

async function loadError(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig: ${VAR} substitution', () => {
  it('substitutes variables, applies defaults, and keeps $${ literal', async () => {
    const dir = tempFiles({
      'c.yaml': `${MINIMAL_YAML}
server:
  host: \${HOST:-0.0.0.0}
  port: 8421
  allowed_hosts: ["\${EMPTY:-fallback.example}", "lit-$\${NOT_A_VAR}"]
`,
    });
    const config = await loadConfig({ path: join(dir, 'c.yaml'), env: { DB_URL: DSN, TOKEN: TOKEN_A, EMPTY: '' } });
    expect(config.databases.main?.url).toBe(DSN);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.server.allowed_hosts).toEqual(['fallback.example', 'lit-${NOT_A_VAR}']);
  });

  it('an unset variable without default names the variable and the YAML path, not any value', async () => {
    const dir = tempFiles({ 'c.yaml': MINIMAL_YAML });
    const err = await loadError(loadConfig({ path: join(dir, 'c.yaml'), env: { TOKEN: TOKEN_A } }));
    expect(err.message).toContain('databases.main.url');
    expect(err.message).toContain('DB_URL');
    expect(err.message).not.toContain(TOKEN_A);
  });

  it('substitution cannot inject YAML structure', async () => {
    const dir = tempFiles({ 'c.yaml': MINIMAL_YAML + 'log:\n  level: ${LEVEL}\n' });
    const err = await loadError(
      loadConfig({ path: join(dir, 'c.yaml'), env: { DB_URL: DSN, TOKEN: TOKEN_A, LEVEL: 'info\nserver:\n  port: 1' } }),
    );
    expect(err.issues.some((i) => i.startsWith('log.level:'))).toBe(true);
  });

  it('reports a malformed reference', async () => {
    const dir = tempFiles({ 'c.yaml': MINIMAL_YAML + 'server:\n  host: "${1BAD}"\n' });
    const err = await loadError(loadConfig({ path: join(dir, 'c.yaml'), env: { DB_URL: DSN, TOKEN: TOKEN_A } }));
    expect(err.message).toContain('server.host: malformed');
  });
});

describe('loadConfig: secrets by file', () => {
  it('X_file replaces X with the trimmed file content, relative to the config file', async () => {
    const dir = tempFiles({
      'db-url': `${DSN}\n`,
      'token': `  ${TOKEN_A}\n`,
      'c.yaml': `
databases:
  main:
    url_file: ./db-url
principals:
  analyst:
    policy: analyst
    tokens:
      - token_file: token
policies:
  analyst:
    databases: { main: {} }
`,
    });
    const config = await loadConfig({ path: join(dir, 'c.yaml'), env: {} });
    expect(config.databases.main?.url).toBe(DSN);
    // The raw token was hashed at load time and dropped.
    expect(config.principals.analyst?.tokens[0]).toEqual({ id: 'analyst#0', sha256: digestToken(TOKEN_A) });
  });

  it('"file:/path" string values are replaced by the file content', async () => {
    const dir = tempFiles({ 'db-url': DSN });
    const cfg = tempFiles({ 'c.yaml': MINIMAL_YAML.replace('${DB_URL}', `"file:${join(dir, 'db-url')}"`) });
    const config = await loadConfig({ path: join(cfg, 'c.yaml'), env: { TOKEN: TOKEN_A } });
    expect(config.databases.main?.url).toBe(DSN);
  });

  it('a missing secret file is an error with the path, X and X_file together is an error', async () => {
    const dir = tempFiles({
      'c.yaml': MINIMAL_YAML.replace('url: ${DB_URL}', 'url: ${DB_URL}\n    url_file: /nonexistent/pgwarden-secret'),
    });
    const err = await loadError(loadConfig({ path: join(dir, 'c.yaml'), env: { DB_URL: DSN, TOKEN: TOKEN_A } }));
    expect(err.message).toContain('databases.main.url_file: set either url or url_file');
    expect(err.message).not.toContain('s3cr3t');

    const dir2 = tempFiles({ 'c.yaml': MINIMAL_YAML.replace('url: ${DB_URL}', 'url_file: /nonexistent/pgwarden-secret') });
    const err2 = await loadError(loadConfig({ path: join(dir2, 'c.yaml'), env: { TOKEN: TOKEN_A } }));
    expect(err2.message).toContain('databases.main.url_file: cannot read /nonexistent/pgwarden-secret (ENOENT)');
  });

  it('_file is only special where the base key exists (a schema named x_file stays a name)', async () => {
    const dir = tempFiles({
      'c.yaml': `${MINIMAL_YAML}        descriptions:
          schemas:
            audit_file: not a path
`,
    });
    const config = await loadConfig({ path: join(dir, 'c.yaml'), env: { DB_URL: DSN, TOKEN: TOKEN_A } });
    expect(config.policies.analyst?.databases.main?.descriptions.schemas).toEqual({ audit_file: 'not a path' });
  });
});

describe('loadConfig: environment fallbacks and precedence', () => {
  it('DATABASE_URL + PGWARDEN_TOKEN alone make a working config', async () => {
    const config = await loadConfig({ env: { DATABASE_URL: DSN, PGWARDEN_TOKEN: TOKEN_A } });
    expect(config.databases.main?.url).toBe(DSN);
    expect(config.databases.main?.search_path).toEqual(['public']);
    expect(config.principals.agent?.policy).toBe('default');
    expect(config.principals.agent?.tokens).toEqual([{ id: 'agent#env', sha256: digestToken(TOKEN_A) }]);
    expect(config.policies.default?.databases.main?.mode).toBe('read-only');
    expect(config.server.transport).toBe('http');
  });

  it('*_FILE variables are read from files', async () => {
    const dir = tempFiles({ url: DSN + '\n', tok: TOKEN_A + '\n' });
    const config = await loadConfig({ env: { DATABASE_URL_FILE: join(dir, 'url'), PGWARDEN_TOKEN_FILE: join(dir, 'tok') } });
    expect(config.databases.main?.url).toBe(DSN);
    expect(config.principals.agent?.tokens[0]?.sha256).toBe(digestToken(TOKEN_A));
  });

  it('PGWARDEN_TOKENS gives principals tokens (two for one principal: rotation)', async () => {
    const config = await loadConfig({
      env: { DATABASE_URL: DSN, PGWARDEN_TOKENS: `ci:${TOKEN_A}, ci:${TOKEN_B}` },
    });
    expect(config.principals.ci?.tokens.map((t) => t.sha256)).toEqual([digestToken(TOKEN_A), digestToken(TOKEN_B)]);
  });

  it('a malformed PGWARDEN_TOKENS entry is reported without its content', async () => {
    const err = await loadError(loadConfig({ env: { DATABASE_URL: DSN, PGWARDEN_TOKENS: `nocolon${TOKEN_A}` } }));
    expect(err.message).toContain('PGWARDEN_TOKENS: entry 1');
    expect(err.message).not.toContain(TOKEN_A);
  });

  it('no file and no DATABASE_URL is a clear error', async () => {
    const err = await loadError(loadConfig({ env: { PGWARDEN_TOKEN: TOKEN_A } }));
    expect(err.message).toMatch(/no configuration.*DATABASE_URL/);
  });

  it('the file wins over the environment; the environment fills what the file leaves out', async () => {
    const dir = tempFiles({
      'c.yaml': `
server:
  port: 9000
databases:
  main:
    search_path: [app]
principals:
  agent:
    policy: analyst
policies:
  analyst:
    databases: { main: { schemas: [app] } }
`,
    });
    const config = await loadConfig({
      path: join(dir, 'c.yaml'),
      env: {
        DATABASE_URL: DSN,
        PGWARDEN_TOKEN: TOKEN_A,
        PGWARDEN_PORT: '7000',
        PGWARDEN_HOST: '0.0.0.0',
        PGWARDEN_LOG_LEVEL: 'debug',
      },
    });
    expect(config.server.port).toBe(9000); // file
    expect(config.server.host).toBe('0.0.0.0'); // env fills
    expect(config.log.level).toBe('debug');
    expect(config.databases.main).toMatchObject({ url: DSN, search_path: ['app'] }); // merged per key
    expect(config.principals.agent?.policy).toBe('analyst'); // file
    expect(config.principals.agent?.tokens[0]?.sha256).toBe(digestToken(TOKEN_A)); // env fills tokens
  });

  it('an environment-made default policy never merges into a file policy of the same name', async () => {
    const dir = tempFiles({
      'c.yaml': `
databases:
  main: { url: "${DSN}" }
  other: { url: "${DSN}" }
policies:
  default:
    databases: { other: {} }
`,
    });
    const config = await loadConfig({ path: join(dir, 'c.yaml'), env: { PGWARDEN_TOKEN: TOKEN_A } });
    expect(Object.keys(config.policies.default?.databases ?? {})).toEqual(['other']);
  });

  it('overrides win over the file and the environment', async () => {
    const dir = tempFiles({ 'c.yaml': MINIMAL_YAML + 'server:\n  port: 9000\n' });
    const config = await loadConfig({
      path: join(dir, 'c.yaml'),
      env: { DB_URL: DSN, TOKEN: TOKEN_A, PGWARDEN_TRANSPORT: 'http' },
      overrides: { server: { port: 1234, transport: 'stdio' } },
    });
    expect(config.server.port).toBe(1234);
    expect(config.server.transport).toBe('stdio');
  });

  it('invalid PGWARDEN_PORT / PGWARDEN_TRANSPORT name the variable', async () => {
    const err = await loadError(
      loadConfig({ env: { DATABASE_URL: DSN, PGWARDEN_TOKEN: TOKEN_A, PGWARDEN_PORT: 'eighty', PGWARDEN_TRANSPORT: 'tcp' } }),
    );
    expect(err.issues).toEqual(['PGWARDEN_PORT: must be an integer from 0 to 65535', 'PGWARDEN_TRANSPORT: must be http or stdio']);
  });

  it('PGWARDEN_CONFIG names the file when no path is given', async () => {
    const dir = tempFiles({ 'c.yaml': MINIMAL_YAML });
    const config = await loadConfig({ env: { PGWARDEN_CONFIG: join(dir, 'c.yaml'), DB_URL: DSN, TOKEN: TOKEN_A } });
    expect(Object.keys(config.principals)).toEqual(['analyst']);
  });

  it('an empty path or PGWARDEN_CONFIG is no file (launchers pass unset optional settings as empty strings)', async () => {
    const config = await loadConfig({ path: '', env: { PGWARDEN_CONFIG: '', DATABASE_URL: DSN, PGWARDEN_TOKEN: TOKEN_A } });
    expect(Object.keys(config.databases)).toHaveLength(1);
  });
});

describe('loadConfig: schema errors', () => {
  it('unknown keys are errors with their full path and a hint', async () => {
    const dir = tempFiles({ 'c.yaml': MINIMAL_YAML + 'server:\n  prot: 1\n  rate_limit:\n    burst: 3\n' });
    const err = await loadError(loadConfig({ path: join(dir, 'c.yaml'), env: { DB_URL: DSN, TOKEN: TOKEN_A } }));
    expect(err.issues).toContain('server.prot: unknown key (did you mean "port"?)');
    expect(err.issues).toContain('server.rate_limit.burst: unknown key');
  });

  it('type errors are path-qualified', async () => {
    const dir = tempFiles({ 'c.yaml': MINIMAL_YAML.replace('url: ${DB_URL}', 'url: ${DB_URL}\n    pool:\n      max: lots') });
    const err = await loadError(loadConfig({ path: join(dir, 'c.yaml'), env: { DB_URL: DSN, TOKEN: TOKEN_A } }));
    expect(err.issues[0]).toMatch(/^databases\.main\.pool\.max: .*expected number/);
    expect(err.message).not.toContain('s3cr3t');
  });

  it('a missing required key says so', async () => {
    const dir = tempFiles({ 'c.yaml': 'databases:\n  main:\n    search_path: [app]\nserver:\n  transport: stdio\n' });
    const err = await loadError(loadConfig({ path: join(dir, 'c.yaml'), env: {} }));
    expect(err.issues).toContain('databases.main.url: required (expected string)');
  });

  it('YAML errors carry line and column, duplicate keys included, without quoting the source', async () => {
    const dir = tempFiles({ 'c.yaml': `databases:\n  main:\n    url: "${DSN}"\n    url: "${DSN}"\n` });
    const err = await loadError(loadConfig({ path: join(dir, 'c.yaml'), env: {} }));
    expect(err.message).toMatch(/c\.yaml:4:\d+: .*unique/i);
    expect(err.message).not.toContain('s3cr3t');
  });

  it('refuses keys that would reach Object.prototype', async () => {
    const dir = tempFiles({ 'c.yaml': MINIMAL_YAML + 'server:\n  __proto__:\n    port: 1\n' });
    const err = await loadError(loadConfig({ path: join(dir, 'c.yaml'), env: { DB_URL: DSN, TOKEN: TOKEN_A } }));
    expect(err.issues).toEqual(['server.__proto__: reserved key']);
  });

  it('empty sections (all children commented out) count as not set', async () => {
    const dir = tempFiles({ 'c.yaml': MINIMAL_YAML + 'server:\n  # port: 1\nguard:\n' });
    const config = await loadConfig({ path: join(dir, 'c.yaml'), env: { DB_URL: DSN, TOKEN: TOKEN_A } });
    expect(config.server.port).toBe(8420);
  });
});

describe('loadConfig: versions and the example', () => {
  it('every load gets a new, higher version', async () => {
    const env = { DATABASE_URL: DSN, PGWARDEN_TOKEN: TOKEN_A };
    const a = await loadConfig({ env });
    const b = await loadConfig({ env });
    expect(configVersion(a)).toBeGreaterThan(0);
    expect(configVersion(b)).toBeGreaterThan(configVersion(a));
  });

  it('config/pgwarden.yaml loads and validates with only DATABASE_URL set', async () => {
    const config = await loadConfig({ path: 'config/pgwarden.yaml', env: { DATABASE_URL: DSN } });
    expect(config.databases.main?.search_path).toEqual(['app']);
    expect(config.principals.analyst?.tokens).toHaveLength(2);
    expect(config.policies.analyst?.databases.main?.tables.deny).toContain('internal.*');
    expect(config.policies.explainer?.databases.main?.mode).toBe('explain-only');
  });
});

describe('parseConfig and allowNoTokens', () => {
  const input = {
    databases: { main: { url: DSN } },
    principals: { analyst: { policy: 'analyst' } },
    policies: { analyst: { databases: { main: {} } } },
  };

  it('validates an in-memory object, hashes raw tokens and versions it', () => {
    const config = parseConfig({ ...input, principals: { analyst: { policy: 'analyst', tokens: [{ token: TOKEN_A }] } } });
    expect(config.principals.analyst?.tokens).toEqual([{ id: 'analyst#0', sha256: digestToken(TOKEN_A) }]);
    expect(configVersion(config)).toBeGreaterThan(0);
    expect(() => parseConfig({ ...input, databases: { main: { url: DSN, pool: { max: 'x' } } } })).toThrow(ConfigError);
  });

  it('http without tokens is refused unless allowNoTokens (commands that do not serve)', async () => {
    expect(() => parseConfig(input)).toThrow(/pgwarden token/);
    expect(parseConfig(input, { allowNoTokens: true }).server.transport).toBe('http');
    await expect(loadConfig({ env: { DATABASE_URL: DSN } })).rejects.toThrow(/needs at least one token/);
    const config = await loadConfig({ env: { DATABASE_URL: DSN }, allowNoTokens: true });
    expect(Object.keys(config.principals)).toEqual([]);
  });
});
