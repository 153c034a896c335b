/**
 * Layering of src/** (issue #15 item 4), re-derived from the source on every run (after the MCP
 * SDK's layeringInvariants test): every import between top-level directories must follow LAYERS,
 * the error leaf imports only the reason catalogue, which imports nothing, and no file cycle exists
 * (run-time or type-only). The import scan is test/support/imports.ts (TypeScript compiler API).
 *
 * KNOWN_DEPARTURES lists, file by file, the imports that break the table today. The test requires
 * the list to be exact: a new departure fails, and so does a departure that was mended but is still
 * listed (remove it from the list in the same commit). The list only shrinks.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fileCycles, importGraph, importsOfText, layerViolations, type ImportEdge, type LayerRules } from '../support/imports.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * Which layers each layer may import (besides itself). Read top-down: adapters and the
 * composition root over the core, the core over the pure layers and its ports, db implementing
 * the ports. `errors` (GatewayError, redaction) is the leaf every layer may import.
 *
 * `shared` holds what two layers that must not import each other both need, and nothing that
 * belongs to either: the request/result types of the core's read and write ports (core defines
 * the ports in core/ports.ts, db implements them; with the types in core, db would import core,
 * with them in db, core would import db), and the gateway-wide result byte budget (db charges
 * each result row to it, http scopes the leases to the response that carries the rows), and the
 * one JSON-RPC tools/call shape the HTTP and stdio fast paths both take. It sits
 * beside the pure layers: it may import only guard, config and errors.
 */
const LAYERS: LayerRules = {
  app: ['*'], // the composition root: wires everything
  cli: ['*'], // commands: start the app, talk to the journal and audit files
  demo: ['errors'],
  mcp: ['core', 'guard', 'config', 'shared', 'errors'],
  http: ['core', 'guard', 'config', 'telemetry', 'shared', 'errors'],
  core: ['guard', 'mask', 'config', 'telemetry', 'audit', 'shared', 'errors'],
  db: ['guard', 'config', 'shared', 'errors'],
  judge: ['guard', 'mask', 'config', 'errors'], // the judging pool: guard + masking plan on worker threads
  audit: ['config', 'errors'],
  telemetry: ['guard', 'config', 'log', 'errors'],
  mask: ['guard', 'config', 'errors'],
  auth: ['config', 'errors'],
  shared: ['guard', 'config', 'errors'], // port contracts core and db share (see above)
  guard: ['config', 'errors'],
  config: ['errors'],
  log: [],
  errors: ['guard'], // only guard/reasons.ts, see the leaf test below
};

/**
 * Imports that break LAYERS today, each with the reason it is still there. Only shrinks. Empty
 * since session 5 (#15 item 4: the writes port, src/shared/, mcp/validator.ts,
 * config/token-digest.ts): a new departure needs a written reason here, or a mend.
 */
const KNOWN_DEPARTURES: readonly string[] = [];

const edges = importGraph(SRC);

describe('layering of src/', () => {
  it('the scan sees the imports (not vacuous)', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({ from: 'core/gateway.ts', to: 'core/call/plumbing.ts', typeOnly: false });
    expect(edges).toContainEqual({ from: 'app/runtime.ts', to: 'core/gateway.ts', typeOnly: false });
  });

  it('every top-level directory has a place in the layer table', () => {
    const layers = new Set(edges.flatMap((e) => [e.from, e.to]).map((f) => f.split('/')[0]!).filter((l) => !l.endsWith('.ts')));
    expect([...layers].filter((l) => !(l in LAYERS))).toEqual([]);
  });

  it('imports follow the layer table, except the listed departures (exactly)', () => {
    expect(layerViolations(edges, LAYERS)).toEqual([...KNOWN_DEPARTURES].sort());
  });

  it('the composition root lives outside core/: nothing but cli/ (and app/ itself) imports app/', () => {
    const importers = edges.filter((e) => e.to.startsWith('app/') && !e.from.startsWith('app/')).map((e) => e.from.split('/')[0]);
    expect([...new Set(importers)]).toEqual(['cli']);
  });

  it('errors/ is a leaf: it imports only the reason catalogue, and the catalogue imports nothing', () => {
    const fromErrors = edges.filter((e) => e.from.startsWith('errors/') && !e.to.startsWith('errors/')).map((e) => e.to);
    expect([...new Set(fromErrors)]).toEqual(['guard/reasons.ts']);
    expect(edges.filter((e) => e.from === 'guard/reasons.ts')).toEqual([]);
  });

  it('db and core do not import each other at run time from db (db -> core is gone)', () => {
    expect(edges.filter((e) => e.from.startsWith('db/') && e.to.startsWith('core/'))).toEqual([]);
  });

  it('no file cycles, run-time or type-only', () => {
    expect(fileCycles(edges)).toEqual([]);
    expect(fileCycles(edges, { includeTypeOnly: true })).toEqual([]);
  });
});

describe('the layering checks can fail', () => {
  const scan = (file: string, text: string): ImportEdge[] => importsOfText(file, text);

  it('a forbidden import is reported (guard -> db, mcp -> db via re-export, dynamic import)', () => {
    const planted = [
      ...edges,
      ...scan('guard/planted.ts', "import { DatabasePool } from '../db/pool.js';"),
      ...scan('mcp/planted.ts', "export { runRead } from '../db/read.js';"),
      ...scan('mask/planted.ts', "const m = await import('../http/app.js');"),
    ];
    expect(layerViolations(planted, LAYERS)).toEqual(
      [...KNOWN_DEPARTURES, 'guard/planted.ts -> db/pool.ts', 'mask/planted.ts -> http/app.ts', 'mcp/planted.ts -> db/read.ts'].sort(),
    );
  });

  it('a directory missing from the table may import nothing outside itself', () => {
    expect(layerViolations(scan('plugins/x.ts', "import { reason } from '../guard/reasons.js';"), LAYERS)).toEqual(['plugins/x.ts -> guard/reasons.ts']);
  });

  it('type-only imports are told apart, packages are ignored', () => {
    const e = scan(
      'core/x.ts',
      [
        "import type { A } from './a.js';",
        "import { type B, type C } from './b.js';",
        "import { D, type E } from './d.js';",
        "import pg from 'pg';",
        "export type { F } from '../guard/types.js';",
        "type G = import('../db/pool.js').ReadRequest;",
      ].join('\n'),
    );
    expect(e).toEqual([
      { from: 'core/x.ts', to: 'core/a.ts', typeOnly: true },
      { from: 'core/x.ts', to: 'core/b.ts', typeOnly: true },
      { from: 'core/x.ts', to: 'core/d.ts', typeOnly: false },
      { from: 'core/x.ts', to: 'guard/types.ts', typeOnly: true },
      { from: 'core/x.ts', to: 'db/pool.ts', typeOnly: true },
    ]);
  });

  it('a cycle is found (run-time edges), and a type-only cycle only when asked', () => {
    const cyc = [
      ...scan('http/a.ts', "import { b } from './b.js';"),
      ...scan('http/b.ts', "import { c } from './c.js';"),
      ...scan('http/c.ts', "import { a } from './a.js';"),
      ...scan('http/t1.ts', "import type { T } from './t2.js';"),
      ...scan('http/t2.ts', "import type { T } from './t1.js';"),
    ];
    expect(fileCycles(cyc)).toEqual([['http/a.ts', 'http/b.ts', 'http/c.ts']]);
    expect(fileCycles(cyc, { includeTypeOnly: true })).toEqual([
      ['http/a.ts', 'http/b.ts', 'http/c.ts'],
      ['http/t1.ts', 'http/t2.ts'],
    ]);
  });
});
