/**
 * Guard decisions before and after: every corpus text (test/corpus, plus the guard's fixture
 * queries) judged by two built checkouts under several policies, every SQL tool and observe mode;
 * prints how many decisions were compared and every one that differs (key order, reason text,
 * relations, functions, kind … — the decision's JSON byte for byte, its parse tree aside).
 * Exits 1 when any differs. A tool for optimizations that must not change a decision (issue #13).
 *
 *   npx tsc -p tsconfig.build.json        (in both checkouts)
 *   npx tsx bench/guard-same.ts <before checkout> [<after checkout>, default .]
 *
 * Both checkouts judge the same requests, built from this checkout's fixtures (demo catalog with
 * two user overloads added, policies below) and corpus.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Guard as GuardClass } from '../src/guard/index.js';
import type { CatalogFunction, Decision, GuardRequest, ToolName } from '../src/guard/types.js';
import { loadCorpus } from '../test/corpus/index.js';
import { demoCatalog, demoPolicy, guardRequest, type PolicyOverrides } from '../test/unit/guard/fixtures/catalog.js';
import { ALLOWED_QUERIES } from '../test/unit/guard/fixtures/queries.js';

type GuardModule = { Guard: typeof GuardClass; loadParser(): Promise<void> };

async function load(dir: string): Promise<GuardModule> {
  const m = (await import(pathToFileURL(resolve(dir, 'dist/guard/index.js')).href)) as GuardModule;
  await m.loadParser();
  return m;
}

/** User overloads next to pg_catalog's and each other (SECURITY DEFINER on one of two). */
const EXTRA_FUNCTIONS: CatalogFunction[] = [
  { schema: 'app', name: 'lower', securityDefiner: false, volatility: 'immutable', language: 'sql' },
  { schema: 'app', name: 'cents_to_eur', securityDefiner: true, volatility: 'immutable', language: 'sql' },
  { schema: 'public', name: 'round', securityDefiner: true, volatility: 'immutable', language: 'sql' },
];

const POLICIES: [string, PolicyOverrides][] = [
  ['analyst', {}],
  ['read-write', { mode: 'read-write' }],
  ['catalogs', { catalogs: true, schemas: ['app', 'public'] }],
  ['allow-list', { functions: { mode: 'allowlist', allow: ['app.*', 'lower', 'pg_catalog.pg_sleep'] }, tables: { allow: ['app.orders', 'app.customers', 'app.order_items'], deny: ['internal.*'] } }],
  ['deny', { views: false, functions: { mode: 'denylist', deny: ['upper', 'app.lookup_key'] }, tables: { allow: [], deny: ['internal.*', 'app.events'] } }],
];

const TOOLS: ToolName[] = ['query', 'explain', 'check', 'execute'];

/** The decision as JSON (own enumerable keys in order, getters read), without the parse tree. */
function canonical(d: Decision): string {
  return JSON.stringify(d, (k, v: unknown) => (k === 'stmt' || k === 'elapsedUs' ? undefined : v));
}

function requests(): GuardRequest[] {
  const texts = [...new Set([...loadCorpus().map((c) => c.sql), ...ALLOWED_QUERIES])];
  const catalogs = [demoCatalog(), demoCatalog({ functions: EXTRA_FUNCTIONS, version: 2 })];
  const out: GuardRequest[] = [];
  for (const sql of texts) {
    for (const [name, overrides] of POLICIES) {
      const policy = demoPolicy(overrides);
      for (const catalog of catalogs) {
        for (const tool of TOOLS) out.push(guardRequest(sql, { tool, policy, policyName: name, catalog, searchPath: ['app', 'public'] }));
        out.push(guardRequest(sql, { policy, policyName: name, catalog, observe: true }));
      }
    }
  }
  return out;
}

async function main(): Promise<void> {
  const dirs = [process.argv[2], process.argv[3] ?? '.'];
  if (dirs[0] === undefined) throw new Error('usage: npx tsx bench/guard-same.ts <before checkout> [<after checkout>]');
  const [before, after] = await Promise.all(dirs.map((d) => load(d as string)));
  const opts = { cacheSize: 0, maxStatementBytes: 100_000, maxAstNodes: 50_000 };
  const g0 = new (before as GuardModule).Guard(opts);
  const g1 = new (after as GuardModule).Guard(opts);
  const reqs = requests();
  let differ = 0;
  for (const req of reqs) {
    const a = canonical(g0.decide(req));
    const b = canonical(g1.decide(req));
    if (a === b) continue;
    differ++;
    if (differ <= 20) console.log(`DIFFERS (${req.policyName}, ${req.tool}${req.observe ? ', observe' : ''}): ${JSON.stringify(req.sql.slice(0, 120))}\n  before ${a}\n  after  ${b}`);
  }
  const texts = reqs.length / (POLICIES.length * 2 * (TOOLS.length + 1));
  console.log(`${reqs.length} decisions compared (${texts} texts × ${POLICIES.length} policies × 2 catalogs × ${TOOLS.length} tools + observe): ${differ} differ`);
  if (differ > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
