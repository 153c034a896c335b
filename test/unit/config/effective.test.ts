import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, configSchema, effectivePolicy, reachableDatabases, resolveLimits } from '../../../src/config/index.js';

const config = configSchema.parse({
  server: { transport: 'stdio' },
  databases: {
    main: { url: 'postgres://h/main', search_path: ['app'], limits: { max_rows: 100, statement_timeout_ms: 2000 } },
    other: { url: 'postgres://h/other' },
  },
  principals: { analyst: { policy: 'analyst' } },
  policies: { analyst: { observe: true, databases: { main: { limits: { max_rows: 10 } } } } },
});

describe('resolveLimits', () => {
  it('policy over database over defaults, key by key', () => {
    expect(resolveLimits(config.databases.main, config.policies.analyst?.databases.main)).toEqual({
      ...DEFAULT_LIMITS,
      max_rows: 10,
      statement_timeout_ms: 2000,
    });
    expect(resolveLimits(config.databases.other)).toEqual(DEFAULT_LIMITS);
  });
});

describe('effectivePolicy / reachableDatabases', () => {
  it('resolves the policy, schemas (search_path when empty) and limits', () => {
    const eff = effectivePolicy(config, 'analyst', 'main');
    expect(eff).toMatchObject({ policyName: 'analyst', observe: true, schemas: ['app'], searchPath: ['app'] });
    expect(eff?.policy?.mode).toBe('read-only');
    expect(eff?.limits.max_rows).toBe(10);
  });

  it('a database the policy does not list has no policy entry; unknown names give undefined', () => {
    expect(effectivePolicy(config, 'analyst', 'other')?.policy).toBeUndefined();
    expect(effectivePolicy(config, 'nobody', 'main')).toBeUndefined();
    expect(effectivePolicy(config, 'analyst', 'nowhere')).toBeUndefined();
    expect(effectivePolicy(config, 'constructor', 'main')).toBeUndefined();
    expect(reachableDatabases(config, 'analyst')).toEqual(['main']);
    expect(reachableDatabases(config, 'toString')).toEqual([]);
  });
});
