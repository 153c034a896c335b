/**
 * The parser warm-up (src/guard/pgquery.ts warmUpParse, issue #13 start-up): V8 compiles the
 * parser's WebAssembly functions lazily, on their first call; `pgwarden serve` parses fixed
 * statements as soon as the module is instantiated, so that a first read's parse finds them
 * compiled instead of compiling them inside the first call. Counted with V8's
 * --trace-wasm-compilation-times: after the warm-up, the first statements' parses compile no
 * function; without it they compile dozens (the control: the probe can see a compilation). Fails
 * if the warm-up parses nothing, too little, or something other than what a read's parse runs.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

// statements a first call might send, none of them one of the warm-up's own
const PROBE = `
const [doorUrl, warm] = process.argv.slice(1);
const door = await import(doorUrl);
await door.loadModule();
if (warm === 'warm') door.warmUpParse();
process.stdout.write('MARK-BEFORE\\n');
for (const sql of [
  'SELECT * FROM app.orders WHERE id = 42',
  'SELECT id, email FROM app.customers WHERE email LIKE $1 ORDER BY id LIMIT 20',
  'SELECT c.name, count(o.id) FROM app.customers c LEFT JOIN app.orders o ON o.customer_id = c.id GROUP BY c.name HAVING count(o.id) > 3',
]) door.parseSync(sql);
process.stdout.write('MARK-AFTER\\n');
`;

/** Parser functions compiled while the probe's statements were parsed (after the optional warm-up). */
function firstParseCompilations(warm: boolean): number {
  const loader = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const door = pathToFileURL(path.join(ROOT, 'src/guard/pgquery.ts')).href;
  const run = spawnSync(process.execPath, ['--trace-wasm-compilation-times', '--import', loader, '--input-type=module', '-e', PROBE, door, warm ? 'warm' : 'cold'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  expect(run.status, run.stderr).toBe(0);
  const between = /MARK-BEFORE\n([\s\S]*?)MARK-AFTER/.exec(run.stdout);
  expect(between, run.stdout.slice(-2000)).not.toBeNull();
  return [...(between?.[1] ?? '').matchAll(/Compiled function /g)].length;
}

describe('the parser warm-up', () => {
  it('leaves a first read nothing of the parser to compile; without it the first parse compiles', () => {
    const cold = firstParseCompilations(false);
    const warm = firstParseCompilations(true);
    console.log(`[parser warm-up] ${process.version}: functions compiled by the first parses: cold ${cold}, after the warm-up ${warm}`);
    expect(cold, 'control: the probe saw no lazy compilation').toBeGreaterThan(10);
    expect(warm).toBe(0);
  }, 120_000);

  it('swallows its own failure (an optimization only): before the module is instantiated it throws nothing', async () => {
    const door = await import('../../../src/guard/pgquery.js');
    expect(() => door.warmUpParse()).not.toThrow();
  });
});
