// The MCP adapter's tool definitions: input schemas validated by zod, their JSON Schema memoized.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from '../../../src/config/index.js';
import { Gateway } from '../../../src/core/gateway.js';
import { NO_AUDIT, type GuardPort } from '../../../src/core/ports.js';
import { buildServer, toolDefinitions } from '../../../src/mcp/server.js';

const config = parseConfig(
  {
    server: { host: '127.0.0.1', port: 0 },
    databases: { main: { url: 'postgres://u:p@127.0.0.1:1/db' }, other: { url: 'postgres://u:p@127.0.0.1:1/db2' } },
    principals: { alice: { policy: 'reader', tokens: [{ id: 't', token: 'pgw_alice_0123456789abcdefghijklmnopqrstuvwxyz' }] } },
    policies: { reader: { databases: { main: { mode: 'read-only' }, other: { mode: 'read-only' } } } },
  },
  { source: 'test' },
);
const guard = { decide: () => { throw new Error('not used'); } } as unknown as GuardPort;
const gateway = new Gateway({ config, configVersion: 1, databases: new Map(), guard, audit: NO_AUDIT });

describe('tool definitions', () => {
  it('advertise the same JSON Schema as zod converts, converted once and frozen', () => {
    const query = toolDefinitions(gateway, 'alice').find((d) => d.name === 'query');
    if (!query) throw new Error('query tool missing');
    const options = { target: 'draft-2020-12' as const };
    const json = query.config.inputSchema['~standard'].jsonSchema.input(options);
    const expected = z.object({ sql: z.string().describe('One PostgreSQL read statement.'), database: z.enum(['main', 'other']).optional().describe('Database to use (default: main).') });
    expect(json).toEqual(expected['~standard'].jsonSchema.input(options));
    expect(query.config.inputSchema['~standard'].jsonSchema.input(options)).toBe(json);
    expect(Object.isFrozen(json)).toBe(true);
    // Every per-request server sees the same converted schema (the SDK memoizes only per server).
    const a = buildServer(gateway, { principal: 'alice' }) as unknown as { toolInputSchemaJson(name: string): unknown };
    const b = buildServer(gateway, { principal: 'alice' }) as unknown as { toolInputSchemaJson(name: string): unknown };
    expect(a.toolInputSchemaJson('query')).toEqual(b.toolInputSchemaJson('query'));
    expect((a.toolInputSchemaJson('query') as { properties: unknown }).properties).toBe((b.toolInputSchemaJson('query') as { properties: unknown }).properties);
  });

  it('pass arguments through the SDK (the handler validates and refuses in the refusal shape) with zod as the schema', async () => {
    const query = toolDefinitions(gateway, 'alice').find((d) => d.name === 'query');
    if (!query) throw new Error('query tool missing');
    const validate = query.config.inputSchema['~standard'].validate;
    expect(await validate({ sql: 1, database: 'nope' })).toEqual({ value: { sql: 1, database: 'nope' } });
    const bad = query.args.safeParse({ sql: 1, database: 'nope' });
    expect(bad.success ? [] : bad.error.issues.map((i) => i.path.join('.'))).toEqual(['sql', 'database']);
  });

  it('declare one title and an output schema for every tool; capabilities never advertise listChanged', async () => {
    for (const d of toolDefinitions(gateway, 'alice')) {
      expect(d.config.annotations.title, d.name).toBe(d.config.title);
      expect(d.config.outputSchema['~standard'].jsonSchema.output({ target: 'draft-2020-12' })).toMatchObject({ type: 'object' });
    }
    const server = buildServer(gateway, { principal: 'alice' }) as unknown as { server: { getCapabilities(): Record<string, { listChanged?: boolean }> } };
    for (const cap of Object.values(server.server.getCapabilities())) expect(cap.listChanged ?? false).toBe(false);
  });
});
