/**
 * npm run fuzz -- --seconds N [--seed S] [--no-known-gaps] [--mix read,green,write] [--json report.json] [--cases N]
 *
 * Starts a throwaway PostgreSQL (embedded, or PGWARDEN_TEST_PG_BIN), builds the fuzz world
 * (test/fuzz/world.ts), runs the four properties for N seconds from seed S (default: the time),
 * prints statements tried per property, violations and the seed, and exits 1 on any violation.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runFuzz, formatReport } from '../test/fuzz/run.js';
import { loadSeeds } from '../test/fuzz/regressions.js';
import { startFuzzServer } from '../test/fuzz/server.js';
import { createWorld } from '../test/fuzz/world.js';
import { loadModule } from 'libpg-query';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    'no-known-gaps': { type: 'boolean', default: false },
    mix: { type: 'string' },
    json: { type: 'string' },
    cases: { type: 'string' },
  },
});
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2_147_483_647;
const seconds = Number(values.seconds);
if (!Number.isFinite(seed) || !Number.isFinite(seconds) || seconds <= 0) {
  console.error('usage: npm run fuzz -- --seconds N [--seed S] [--cases N] [--no-known-gaps] [--mix read,green,write] [--json FILE]');
  process.exit(2);
}
const [read, green, write] = (values.mix ?? '5,3,2').split(',').map(Number);
// The fuzz world's MCP clients (the SDK's Streamable HTTP client transport) send every request with
// their one long-lived AbortSignal, and undici keeps an abort listener on it per request until a
// GC collects the request: past 1,500 Node warns once per call (the load generator's noise, as in
// bench/peers.ts). Only that warning from the client transport is dropped; every other warning,
// and the same warning from anywhere else (the gateways run in this process), still prints.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'MaxListenersExceededWarning' && (warning.stack ?? '').includes('StreamableHTTPClientTransport')) return;
  console.warn(warning);
});
await loadModule();
console.error(`fuzz: seed ${seed}, ${seconds} s; starting PostgreSQL and the twin gateways…`);
const server = await startFuzzServer();
let code = 0;
try {
  const world = await createWorld(server.adminUrl, server.template, 'fz');
  try {
    const report = await runFuzz(world, loadSeeds(), {
      seed,
      seconds,
      ...(values.cases !== undefined ? { maxCases: Number(values.cases) } : {}),
      knownGaps: !values['no-known-gaps'],
      mix: { read: read ?? 5, green: green ?? 3, write: write ?? 2 },
      log: (l) => console.error(l),
    });
    console.log(formatReport(report));
    if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(report, null, 2));
    if (report.findings.some((f) => f.knownGap === undefined)) code = 1;
  } finally {
    await world.close();
  }
} finally {
  await server.dispose();
}
process.exit(code);
