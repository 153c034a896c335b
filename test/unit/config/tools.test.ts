// Predefined tools in the configuration: cross-reference checks, parameter definitions, the
// generated JSON Schema, argument binding and the static SQL checks.
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema, validateConfig, type ConfigInput } from '../../../src/config/index.js';
import { argumentsSchema } from '../../../src/config/tool-parameters.js';
import type { PredefinedTool } from '../../../src/config/schema.js';
import { bindArguments, grantedTo, predefinedIsWrite, predefinedToolsFor } from '../../../src/core/predefined.js';
import { staticToolIssues } from '../../../src/app/verify-definitions.js';
import { loadParser } from '../../../src/guard/index.js';
import { DSN, TOKEN_A, TOKEN_B } from './helpers.js';

beforeAll(async () => {
  await loadParser();
});

function base(tools: Record<string, unknown>): ConfigInput {
  return {
    databases: { main: { url: DSN, search_path: ['app'] }, other: { url: DSN } },
    principals: {
      analyst: { policy: 'analyst', tokens: [{ token: TOKEN_A }] },
      bot: { policy: 'bot', tokens: [{ token: TOKEN_B }] },
    },
    policies: { analyst: { databases: { main: {} } }, bot: { databases: { other: {} } } },
    tools,
  } as ConfigInput;
}

const tool = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  description: 'Orders in a status.',
  database: 'main',
  sql: 'SELECT id FROM app.orders WHERE status = $1',
  parameters: [{ name: 'status', type: 'string' }],
  policies: ['analyst'],
  ...extra,
});

const check = (tools: Record<string, unknown>): string[] => validateConfig(configSchema.parse(base(tools)));
const parsed = (t: Record<string, unknown>): PredefinedTool => configSchema.parse(base({ t })).tools.t as PredefinedTool;

describe('tools: configuration checks', () => {
  it('accepts a sound tool', () => {
    expect(check({ orders: tool() })).toEqual([]);
  });

  it('refuses built-in names, unknown databases and grantees, and tools nobody gets', () => {
    expect(check({ query: tool() })).toEqual(['tools.query: "query" is a built-in tool; choose another name']);
    expect(check({ t: tool({ database: 'nope' }) })).toEqual(['tools.t.database: unknown database "nope"']);
    expect(check({ t: tool({ policies: ['ghost'], principals: ['nobody'] }) })).toEqual(['tools.t.principals[0]: unknown principal "nobody"', 'tools.t.policies[0]: unknown policy "ghost"']);
    expect(check({ t: tool({ policies: [] }) })).toEqual(['tools.t: names no principals and no policies: nobody would get it']);
  });

  it('refuses a grantee whose policy does not reach the tool database', () => {
    expect(check({ t: tool({ principals: ['bot'] }) })).toEqual(['tools.t: principal "bot" gets it, but its policy "bot" does not reach database "main"']);
  });

  it('refuses unsound parameter definitions', () => {
    const issues = check({
      t: tool({
        parameters: [
          { name: 'a', type: 'enum' },
          { name: 'a', type: 'integer', min: 5, max: 1 },
          { name: 'c', type: 'array' },
          { name: 'd', type: 'string', pattern: '(' },
          { name: 'e', type: 'integer', max: 3, default: 9 },
          { name: 'f', type: 'boolean', max_length: 3 },
          { name: 'g', type: 'string', required: true, default: 'x' },
        ],
      }),
    });
    expect(issues).toEqual([
      'tools.t.parameters[0].values: an enum needs values',
      'tools.t.parameters[1].name: duplicate parameter name "a"',
      'tools.t.parameters[1].min: min is greater than max',
      'tools.t.parameters[2].items: an array parameter needs items',
      'tools.t.parameters[3].pattern: is not a valid regular expression',
      'tools.t.parameters[4].default: the default does not satisfy the parameter definition',
      'tools.t.parameters[5].pattern: pattern/min_length/max_length apply to string parameters only',
      'tools.t.parameters[6].required: a parameter with a default is not required',
    ]);
  });

  it('grants by principal or policy, only where the policy reaches the database', () => {
    const config = configSchema.parse(base({ a: tool(), b: tool({ policies: [], principals: ['bot'], database: 'other' }) }));
    expect(predefinedToolsFor(config, 'analyst').map(([n]) => n)).toEqual(['a']);
    expect(predefinedToolsFor(config, 'bot').map(([n]) => n)).toEqual(['b']);
    expect(grantedTo(config, config.tools.a as PredefinedTool, 'nobody')).toBe(false);
  });
});

describe('resources: own URIs', () => {
  const res = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ database: 'main', sql: 'SELECT 1', policies: ['analyst'], ...extra });
  const checkResources = (resources: Record<string, unknown>): string[] => validateConfig(configSchema.parse({ ...base({}), resources }));

  it('accepts an absolute URI in canonical form, and the default URI', () => {
    expect(checkResources({ a: res({ uri: 'finance://daily_summary' }), b: res(), c: res({ uri: 'test://static-text' }) })).toEqual([]);
  });

  it('refuses relative, template, non-canonical, reserved and duplicate URIs', () => {
    expect(
      checkResources({
        r1: res({ uri: 'daily_summary' }),
        r2: res({ uri: 'test://template/{id}/data' }),
        r3: res({ uri: 'Finance://Daily' }),
        r4: res({ uri: 'pgwarden://db/shop' }),
        r5: res({ uri: 'finance://daily_summary' }),
        r6: res({ uri: 'finance://daily_summary' }),
        r7: res({ uri: 'pgwarden://resource/r8' }),
        r8: res(),
        r9: res({ uri: 'bad_scheme://x' }),
      }),
    ).toEqual([
      'resources.r1.uri: must be an absolute URI with a scheme, e.g. reports://daily_summary',
      'resources.r2.uri: has {…} but the resource declares no parameters: a template needs `parameters`',
      'resources.r3.uri: must be written in canonical form: finance://Daily',
      "resources.r4.uri: the pgwarden: scheme is reserved for the gateway's own resources; use another scheme",
      'resources.r6.uri: resource "r5" is already served under this URI',
      "resources.r7.uri: the pgwarden: scheme is reserved for the gateway's own resources; use another scheme",
      'resources.r8.uri: resource "r7" is already served under this URI',
      'resources.r9.uri: must be an absolute URI with a scheme, e.g. reports://daily_summary',
    ]);
  });

  it('a URI template names exactly its parameters, which are text', () => {
    const id = { name: 'id', type: 'string', pattern: '^[0-9]+$' };
    expect(checkResources({ t: res({ uri: 'orders://order/{id}', parameters: [id], sql: 'SELECT $1::bigint' }) })).toEqual([]);
    expect(
      checkResources({
        t1: res({ parameters: [id] }),
        t2: res({ uri: 'orders://order/{id}/{other}', parameters: [id] }),
        t3: res({ uri: 'orders://order', parameters: [id] }),
        t4: res({ uri: 'orders://order/{n}', parameters: [{ name: 'n', type: 'integer' }] }),
      }),
    ).toEqual([
      'resources.t1.uri: a resource with parameters needs a URI template naming them, e.g. orders://order/{id}',
      'resources.t2.uri: {other} is not a declared parameter',
      'resources.t3.parameters[0]: "id" does not appear in the URI template',
      'resources.t4.parameters[0].type: a URI variable is text: use string or enum (cast in the statement, e.g. $1::bigint)',
    ]);
  });
});

describe('tools: parameters', () => {
  const t = parsed(
    tool({
      sql: 'SELECT $1, $2, $3, $4, $5',
      parameters: [
        { name: 'region', type: 'string', pattern: '^[a-z]{2}$', max_length: 2, description: 'Two-letter region.' },
        { name: 'limit', type: 'integer', min: 1, max: 100, default: 10 },
        { name: 'ratio', type: 'number', min: 0, max: 1, required: false },
        { name: 'kinds', type: 'array', items: { type: 'enum', values: ['a', 'b'] }, max_items: 2, required: false },
        { name: 'active', type: 'boolean', required: false },
      ],
    }),
  );
  const schema = argumentsSchema(t);

  it('generate the input JSON Schema from the definitions', () => {
    expect(z.toJSONSchema(schema, { io: 'input' })).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['region'],
      properties: {
        region: { type: 'string', pattern: '^[a-z]{2}$', maxLength: 2, description: 'Two-letter region.' },
        limit: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
        ratio: { type: 'number', minimum: 0, maximum: 1 },
        kinds: { type: 'array', maxItems: 2, items: { type: 'string', enum: ['a', 'b'] } },
        active: { type: 'boolean' },
      },
    });
  });

  it('bind positionally: defaults applied, absent optionals NULL', () => {
    expect(bindArguments(t, schema, { region: 'eu' })).toEqual({ ok: true, values: ['eu', 10, null, null, null], names: ['region', 'limit', 'ratio', 'kinds', 'active'] });
    expect(bindArguments(t, schema, { region: 'eu', limit: 3, ratio: 0.5, kinds: ['b'], active: false })).toMatchObject({ values: ['eu', 3, 0.5, ['b'], false] });
  });

  it('refuse bad arguments with INVALID_ARGUMENTS naming the parameter, never the value', () => {
    const cases: [unknown, RegExp][] = [
      [{}, /argument "region": expected string/],
      [{ region: 'EUROPE-secret-value' }, /argument "region": must be at most 2 characters|does not match/],
      [{ region: 'eu', limit: 0 }, /argument "limit": must be at least 1/],
      [{ region: 'eu', limit: 1.5 }, /argument "limit": expected int/],
      [{ region: 'eu', kinds: ['c'] }, /argument "kinds": must be one of: a, b/],
      [{ region: 'eu', kinds: ['a', 'a', 'a'] }, /argument "kinds": must be at most 2 items/],
      [{ region: 'eu', sneaky: 'DROP TABLE x' }, /unknown argument\(s\): sneaky/],
      ['not an object', /arguments: expected object/],
    ];
    for (const [args, message] of cases) {
      const out = bindArguments(t, schema, args);
      expect(out.ok, JSON.stringify(args)).toBe(false);
      if (out.ok) continue;
      expect(out.reasons[0]?.code).toBe('INVALID_ARGUMENTS');
      expect(out.reasons[0]?.message).toMatch(message);
      expect(JSON.stringify(out.reasons)).not.toMatch(/secret-value|DROP TABLE/);
      expect(out.reasons[0]?.fix).toContain('region: string, limit: integer?');
    }
  });
});

describe('tools: static SQL checks', () => {
  const issues = (t: Record<string, unknown>): string[] => staticToolIssues(configSchema.parse(base({ t })));
  it('accept a statement that uses exactly its parameters', () => {
    expect(issues(tool())).toEqual([]);
  });
  it('refuse several statements, a parse error, unused or missing parameters', () => {
    expect(issues(tool({ sql: 'SELECT $1; SELECT 2' }))).toEqual(['tools.t.sql: must be exactly one statement (found 2)']);
    expect(issues(tool({ sql: 'SELEC $1' }))).toEqual(['tools.t.sql: does not parse (PARSE_ERROR)']);
    expect(issues(tool({ sql: 'SELECT 1' }))).toEqual(['tools.t.parameters[0]: $1 (status) is not used by the statement']);
    expect(issues(tool({ sql: 'SELECT $1, $2' }))).toEqual(['tools.t.sql: references $2 but the tool has 1 parameter(s)']);
  });
  it('classify writes conservatively (a data-modifying CTE is a write)', () => {
    expect(predefinedIsWrite('SELECT 1')).toBe(false);
    expect(predefinedIsWrite('WITH d AS (DELETE FROM t RETURNING 1) SELECT * FROM d')).toBe(true);
    expect(predefinedIsWrite('UPDATE t SET a = $1')).toBe(true);
    expect(predefinedIsWrite('not sql')).toBe(true);
  });
});
