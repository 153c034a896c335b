/**
 * The HTTP app declares no fastify route schemas, so it does not load fastify's default schema
 * compilers (@fastify/ajv-compiler, fast-json-stringify) at start (issue #13: start-up, idle RSS);
 * a route that declares a schema fails to register instead of going unvalidated.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { NO_SCHEMA_CONTROLLER } from '../../../src/http/app.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('fastify without schema compilers', () => {
  it('a built HTTP app has not loaded @fastify/ajv-compiler or fast-json-stringify', () => {
    const url = (rel: string): string => pathToFileURL(path.join(ROOT, rel)).href;
    const script = `
      import { createRequire } from 'node:module';
      import pino from 'pino';
      const { buildHttpApp } = await import(${JSON.stringify(url('src/http/app.ts'))});
      const { serverSchema } = await import(${JSON.stringify(url('src/config/schema.ts'))});
      const app = await buildHttpApp({
        server: serverSchema.parse({ host: '127.0.0.1', port: 0 }),
        authenticator: { authenticate: () => ({ ok: false, reason: 'missing' }) },
        mcpFactory: () => { throw new Error('not called'); },
        readiness: async () => true,
        logger: pino({ level: 'silent' }),
      });
      const res = await app.inject({ method: 'GET', url: '/health' });
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => (k.includes('@fastify/ajv-compiler') || k.includes('fast-json-stringify-compiler') || k.endsWith('fast-json-stringify/index.js')));
      console.log(JSON.stringify({ status: res.statusCode, loaded }));
      await app.close();
    `;
    const run = spawnSync(process.execPath, ['--import', url('node_modules/tsx/dist/loader.mjs'), '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({ status: 200, loaded: [] });
  });

  it('a route declaring a schema fails to register, not silently unvalidated', async () => {
    for (const schema of [{ body: { type: 'object' } }, { response: { 200: { type: 'object' } } }]) {
      const app = Fastify({ schemaController: NO_SCHEMA_CONTROLLER });
      app.post('/x', { schema }, async () => ({}));
      await expect(app.ready()).rejects.toThrow(/declare no fastify schemas/);
    }
  });
});
