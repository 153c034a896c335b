import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { digestToken } from '../../../src/auth/tokens.js';
import { configSchema, loadConfig, redactConfig, redactDsn } from '../../../src/config/index.js';
import { TOKEN_A, TOKEN_B, tempFiles } from './helpers.js';

describe('redactDsn', () => {
  it.each([
    ['postgres://user:pw-1@host:5432/db', 'postgres://user:***@host:5432/db'],
    ['postgresql://user:p%40ss@host/db?sslmode=require', 'postgresql://user:***@host/db?sslmode=require'],
    ['postgres://user:p@ss/w0rd@host/db', 'postgres://user:***@host/db'],
    ['postgres://host/db?user=u&password=pw-2&sslmode=require', 'postgres://host/db?user=u&password=***&sslmode=require'],
    ['host=h password=pw-3 dbname=d', 'host=h password=*** dbname=d'],
    ["host=h password='p w 4' dbname=d", 'host=h password=*** dbname=d'],
    ['postgres://user@host/db', 'postgres://user@host/db'],
    ['connect to postgres://a:pw-5@h/d failed', 'connect to postgres://a:***@h/d failed'],
  ])('%s', (input, expected) => {
    expect(redactDsn(input)).toBe(expected);
  });
});

describe('redactConfig', () => {
  it('no secret survives in the printed YAML', async () => {
    const secrets = {
      dbPassword: 'db-pass-SECRET-1',
      queryPassword: 'db-pass-SECRET-2',
      tlsKey: '-----BEGIN PRIVATE KEY-----\nKEY-SECRET-3\n-----END PRIVATE KEY-----',
    };
    const yaml = `
databases:
  main:
    url: postgres://reader:${secrets.dbPassword}@db.example/shop
    tls:
      mode: verify-full
      cert: cert-pem
      key_file: ./tls.key
  replica:
    url: postgres://db2.example/shop?user=r&password=${secrets.queryPassword}
principals:
  analyst:
    policy: analyst
    tokens:
      - token: ${TOKEN_A}
      - token_file: ./tok
policies:
  analyst:
    databases: { main: {}, replica: {} }
`;
    const dir = tempFiles({ 'tls.key': secrets.tlsKey, tok: TOKEN_B, 'c.yaml': yaml });
    const loaded = await loadConfig({ path: join(dir, 'c.yaml'), env: {} });
    expect(loaded.databases.main?.tls.key).toBe(secrets.tlsKey.trim());

    const printed = stringify(redactConfig(loaded));
    for (const s of [...Object.values(secrets), 'KEY-SECRET-3', TOKEN_A, TOKEN_B, digestToken(TOKEN_A), digestToken(TOKEN_B)]) {
      expect(printed).not.toContain(s);
    }
    expect(printed).toContain('postgres://reader:***@db.example/shop');
    expect(printed).toContain('password=***');
    // The original is untouched (deep copy).
    expect(loaded.databases.main?.url).toContain(secrets.dbPassword);
  });

  it('masks raw tokens and any password/secret/token/key-named value, shortens digests', () => {
    const config = configSchema.parse({
      databases: { main: { url: 'postgres://h/d', tls: { key: 'k-SECRET' } } },
      principals: {
        // a principal whose NAME looks secret-ish keeps its name and non-secret fields
        token_bot: { policy: 'p', tokens: [{ id: 'bot-1', token: TOKEN_A }, { sha256: digestToken(TOKEN_B) }] },
      },
      policies: { p: { databases: { main: { descriptions: { columns: { 'internal.api_keys.key': 'the API key column' } } } } } },
    });
    const red = redactConfig(config);
    expect(red.databases.main?.tls.key).toBe('***');
    expect(red.principals.token_bot?.tokens[0]).toEqual({ id: 'bot-1', token: '***' });
    expect(red.principals.token_bot?.tokens[1]?.sha256).toBe(`${digestToken(TOKEN_B).slice(0, 12)}…`);
    expect(red.policies.p?.databases.main?.descriptions.columns['internal.api_keys.key']).toBe('the API key column');
    expect(JSON.stringify(red)).not.toContain(TOKEN_A);
    expect(JSON.stringify(red)).not.toContain('k-SECRET');
  });
});
