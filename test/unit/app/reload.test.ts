/**
 * Reload classification (src/app/reload.ts): every schema key is classified, the reload list in
 * docs/configuration.md is the code's, changed keys are named by path and never by value, and
 * the start-up validations re-run on a reloaded file.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the config fixture is an untyped YAML document the tests mutate key by key */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allKeyPaths, parseConfig, type Config } from '../../../src/config/index.js';
import { changedPaths, classifyChanges, reloadDocLines, reloadProblems, reloadRule } from '../../../src/app/reload.js';

const AGENT = 'pgw_reload_unit_agent_0123456789abcdefghijk';
const OPERATOR = 'pgw_reload_unit_operator_0123456789abcdefgh';
const SECRET_DSN = 'postgres://gw:Sup3rSecretPw@db.example:5432/shop';

function config(over: (c: Record<string, any>) => void = () => undefined): Config {
  const input: Record<string, any> = {
    server: { port: 0 },
    databases: { shop: { url: SECRET_DSN, search_path: ['app'] } },
    principals: { agent: { policy: 'writer', tokens: [{ token: AGENT }] } },
    operators: { ops: { tokens: [{ token: OPERATOR }] } },
    policies: { writer: { databases: { shop: { mode: 'read-write', schemas: ['app'] } } } },
  };
  over(input);
  return parseConfig(input);
}

describe('reload rules', () => {
  it('classify every key of the schema', () => {
    const unclassified = allKeyPaths().filter((k) => reloadRule(k.replace(/\[\]/g, '')) === undefined);
    expect(unclassified).toEqual([]);
  });

  it('are the list docs/configuration.md shows', () => {
    const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    const block = /<!-- reload-keys:begin -->\n([\s\S]*?)\n<!-- reload-keys:end -->/.exec(docs)?.[1];
    expect(block, 'docs/configuration.md is out of date: run npx tsx scripts/reload-keys.ts').toBe(reloadDocLines(allKeyPaths()).join('\n'));
  });

  it('apply limits and policies, and name connection settings as needing a restart', () => {
    expect(reloadRule('databases.<name>.limits.max_rows')?.reload).toBe(true);
    expect(reloadRule('databases.<name>.url')?.reload).toBe(false);
    expect(reloadRule('databases.<name>.pool.max')?.reload).toBe(false);
    expect(reloadRule('policies.<name>.databases.<name>.writes.block_above_rows')?.reload).toBe(true);
    expect(reloadRule('operators.<name>.tokens')?.reload).toBe(true);
    expect(reloadRule('server.port')?.reload).toBe(false);
    expect(reloadRule('something_new.key')).toBeUndefined();
  });
});

describe('changed keys', () => {
  it('are paths, never values (tokens, DSN passwords, keys)', () => {
    const before = config();
    const after = config((c) => {
      c.databases.shop.url = 'postgres://gw:An0therSecret@db.example:5432/shop';
      c.databases.shop.limits = { max_rows: 7 };
      c.principals.agent.tokens = [{ token: `${AGENT}x` }];
      c.masking = { hash_key: 'a-brand-new-hash-key-0123' };
      c.server.port = 9999;
    });
    const changes = classifyChanges(before, after, { adminServed: true });
    expect(changes.applied).toEqual(expect.arrayContaining(['databases.shop.limits.max_rows', 'principals.agent.tokens', 'masking.hash_key']));
    expect(changes.restart).toEqual(expect.arrayContaining(['databases.shop.url', 'server.port']));
    const text = JSON.stringify(changes);
    for (const secret of ['Sup3rSecretPw', 'An0therSecret', AGENT, 'a-brand-new-hash-key']) expect(text).not.toContain(secret);
  });

  it('an added or removed database is one key that needs a restart', () => {
    const after = config((c) => {
      c.databases.other = { url: SECRET_DSN };
    });
    expect(classifyChanges(config(), after, { adminServed: true }).restart).toEqual(['databases.other']);
    expect(changedPaths({ a: 1 }, { a: 1 })).toEqual([]);
  });

  it('operator changes need a restart when no admin API was served', () => {
    const after = config((c) => {
      c.operators.ops.tokens = [{ token: `${OPERATOR}y` }];
    });
    expect(classifyChanges(config(), after, { adminServed: false }).restart).toEqual(['operators.ops.tokens']);
    expect(classifyChanges(config(), after, { adminServed: true }).applied).toEqual(['operators.ops.tokens']);
  });
});

describe('reload problems', () => {
  it('refuse an operator token that is also an agent token', () => {
    const next = config((c) => {
      c.operators.ops.tokens = [{ token: AGENT }];
    });
    const problems = reloadProblems(next, { writable: ['shop'] });
    expect(problems.join('\n')).toMatch(/operators\.ops: .*distinct/);
    expect(problems.join('\n')).not.toContain(AGENT);
  });

  it('refuse a database made read-write that has no write state', () => {
    expect(reloadProblems(config(), { writable: [] }).join('\n')).toMatch(/policies\.writer\.databases\.shop\.mode: read-write/);
    expect(reloadProblems(config(), { writable: ['shop'] })).toEqual([]);
  });

  it('refuse a hash mask without a hash key', () => {
    const next = config((c) => {
      c.policies.writer.databases.shop.masks = { 'app.customers.email': { mask: 'hash' } };
    });
    expect(reloadProblems(next, { writable: ['shop'] }).length).toBeGreaterThan(0);
  });
});
