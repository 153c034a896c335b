/**
 * The fuzz loop: generate (seeded), check every property that applies, shrink what fails, and
 * count. Used by `npm run fuzz` (scripts/fuzz.ts) and the bounded CI run (test/fuzz/fuzz.test.ts).
 *
 * A finding whose statement matches a tracked known gap (test/corpus/fuzz/regressions.yaml,
 * entries with `known_gap` and a `match` pattern) is reported as known and does not count as a
 * violation unless known gaps are switched off (`--no-known-gaps`).
 */
import { readCatalog } from './catalog.js';
import { Generator, type CaseKind, type FuzzCase, type Seeds } from './generate.js';
import { fidelity, listen, noninterferenceRead, noninterferenceWrite, sideEffectSnapshot, snapshotDifference, SKIP, touches, type Verdict } from './properties.js';
import { loadRegressions, type Regression } from './regressions.js';
import { render, Rng, shrink, type Node } from './tree.js';
import { FUZZ_MASKS, type World } from './world.js';
import { observe } from './observe.js';

export const PROPERTIES = ['noninterference', 'side-effects', 'touches', 'fidelity'] as const;
export type Property = (typeof PROPERTIES)[number];

export interface Finding {
  property: Property;
  tool: string;
  origin: string;
  sql: string;
  shrunk: string;
  followUp?: string;
  detail: string;
  /** The known gap it matches, when it does. */
  knownGap?: string;
}

export interface FuzzReport {
  seed: number;
  elapsedMs: number;
  cases: number;
  tried: Record<Property, number>;
  skipped: Record<Property, number>;
  /** Wall time spent per property (the statements it ran, both twins, shrinking included). */
  timeMs: Record<Property, number>;
  greenTried: number;
  falsePositives: number;
  /** …of which match a tracked known gap. */
  falsePositivesKnownGap: number;
  findings: Finding[];
}

export interface FuzzOptions {
  seed: number;
  /** Stop generating after this long (a case in flight finishes). */
  seconds: number;
  /** …or after this many cases (CI: a fixed number, so the statements tried do not depend on machine speed). */
  maxCases?: number;
  /** Tolerate findings that match tracked known gaps (default true). */
  knownGaps?: boolean;
  /** Relative weights of wild reads, green reads and writes. */
  mix?: Record<CaseKind, number>;
  /** Reads per side-effect batch. */
  batch?: number;
  log?: (line: string) => void;
}

const CHANNELS = ['fz', 'a', 'app', 'pgwarden', 'customers', 'x'];

const zero = (): Record<Property, number> => ({ noninterference: 0, 'side-effects': 0, touches: 0, fidelity: 0 });

export function knownGapFor(gaps: readonly Regression[], property: Property, ...texts: string[]): string | undefined {
  for (const g of gaps) {
    if (g.known_gap === undefined || g.match === undefined || g.property !== property) continue;
    const re = new RegExp(g.match, 'is');
    if (texts.some((t) => re.test(t))) return g.known_gap;
  }
  return undefined;
}

export async function runFuzz(world: World, seeds: Seeds, options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? (() => undefined);
  const gaps = options.knownGaps === false ? [] : loadRegressions();
  const started = Date.now();
  const deadline = started + options.seconds * 1000;
  const rng = new Rng(options.seed);
  const catalog = await readCatalog(world.readAdminUrl, new Set(Object.keys(FUZZ_MASKS)));
  const gen = new Generator(rng, catalog, seeds);
  const report: FuzzReport = { seed: options.seed, elapsedMs: 0, cases: 0, tried: zero(), skipped: zero(), timeMs: zero(), greenTried: 0, falsePositives: 0, falsePositivesKnownGap: 0, findings: [] };
  const seen = new Set<string>();
  const shrinks = new Map<string, number>();
  const timed = async <T>(p: Property, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      report.timeMs[p] += Date.now() - t0;
    }
  };

  const record = async (property: Property, c: FuzzCase, detail: string, stillFails: (sql: string) => Promise<boolean>): Promise<void> => {
    const sql = render(c.tree);
    const known = knownGapFor(gaps, property, sql, detail);
    // shrink the first few findings of each class (property + what differed); count the rest as found
    const cls = `${property}:${c.kind}:${detail.replace(/(differs at [^:]*|\)):.*$/s, '$1').replace(/\d+/g, 'N')}`;
    const shrunkSoFar = shrinks.get(cls) ?? 0;
    let shrunk = sql;
    if (known === undefined && shrunkSoFar < 3) {
      shrinks.set(cls, shrunkSoFar + 1);
      shrunk = render(await shrink(c.tree, stillFails));
    }
    const key = `${property}\u0000${shrunk}`;
    if (seen.has(key)) return;
    seen.add(key);
    const knownGap = known ?? knownGapFor(gaps, property, shrunk, detail);
    const f: Finding = { property, tool: c.tool, origin: c.origin, sql, shrunk, detail, ...(c.followUp ? { followUp: c.followUp } : {}), ...(knownGap ? { knownGap } : {}) };
    report.findings.push(f);
    log(`${knownGap ? 'known gap' : 'VIOLATION'} [${property}] ${shrunk}\n    ${detail}${knownGap ? `\n    (${knownGap})` : ''}`);
  };
  const failing = (v: Verdict): boolean => v !== undefined && v !== SKIP;

  // side effects: A's state before and after each batch of reads that ran on A
  const listener = await listen(world.readAdminUrl, CHANNELS);
  let batch: FuzzCase[] = [];
  let before = await sideEffectSnapshot(world);
  const closeBatch = async (): Promise<void> => {
    if (batch.length === 0) return;
    await timed('side-effects', async () => {
      const after = await sideEffectSnapshot(world);
      const notified = listener.count();
      report.tried['side-effects'] += batch.length;
      const diff = snapshotDifference(before, after) ?? (notified > 0 ? `${notified} notification(s) sent` : undefined);
      if (diff !== undefined) await blame(batch, diff);
      before = await sideEffectSnapshot(world);
      batch = [];
    });
  };
  const runAlone = async (sql: string, tool: string): Promise<string | undefined> => {
    const s0 = await sideEffectSnapshot(world);
    const n0 = listener.count();
    await observe(world.a.analyst, tool, { sql });
    await new Promise((r) => setTimeout(r, 20));
    const s1 = await sideEffectSnapshot(world);
    return snapshotDifference(s0, s1) ?? (listener.count() > n0 ? 'notification sent' : undefined);
  };
  const blame = async (cases: FuzzCase[], diff: string): Promise<void> => {
    for (const c of cases) {
      const d = await runAlone(render(c.tree), c.tool);
      if (d !== undefined) return record('side-effects', c, d, async (sql) => (await runAlone(sql, c.tool)) !== undefined);
    }
    const c = cases[0] as FuzzCase;
    await record('side-effects', { ...c, tree: { parts: [cases.map((x) => render(x.tree)).join(';\n')], alts: [] } }, `batch changed state, no single statement reproduced it: ${diff}`, async () => false);
  };

  const mix = options.mix ?? { read: 5, green: 3, write: 2 };
  const kinds: [number, CaseKind][] = [
    [mix.read, 'read'],
    [mix.green, 'green'],
    [mix.write, 'write'],
  ];
  let cases = 0;
  while (Date.now() < deadline && cases++ < (options.maxCases ?? Infinity)) {
    const c = gen.next(rng.weighted(kinds));
    const sql = render(c.tree);
    if (c.kind === 'write') {
      const v = await timed('noninterference', () => noninterferenceWrite(world, sql, c.followUp ?? 'SELECT 1'));
      if (process.env.PGWARDEN_FUZZ_TRACE) log(`[write execute] ${v === undefined ? 'same' : v === SKIP ? 'skip' : 'DIFFERS'} | ${sql.replace(/\s+/g, ' ').slice(0, 300)}`);
      report.tried.noninterference++;
      if (v === SKIP) report.skipped.noninterference++;
      else if (v !== undefined) await timed('noninterference', () => record('noninterference', c, v, async (s) => failing(await noninterferenceWrite(world, s, c.followUp ?? 'SELECT 1'))));
      continue;
    }
    const ni = await timed('noninterference', () => noninterferenceRead(world, c.tool, sql));
    if (process.env.PGWARDEN_FUZZ_TRACE) log(`[${c.kind} ${c.tool}] ${ni.a.isError ? `refused ${ni.a.codes.join(',')}` : 'ran'} | ${sql.replace(/\s+/g, ' ').slice(0, 300)}`);
    report.tried.noninterference++;
    if (ni.verdict === SKIP) report.skipped.noninterference++;
    else if (ni.verdict !== undefined) await timed('noninterference', () => record('noninterference', c, ni.verdict as string, async (s) => failing((await noninterferenceRead(world, c.tool, s)).verdict)));
    if (c.tool !== 'check') batch.push(c);
    if (c.kind === 'green') {
      const fid = await timed('fidelity', () => fidelity(world, sql, ni.a));
      report.tried.fidelity++;
      if (fid.verdict === SKIP) report.skipped.fidelity++;
      else {
        report.greenTried++;
        if (fid.falsePositive) {
          report.falsePositives++;
          if (knownGapFor(gaps, 'fidelity', sql, fid.verdict ?? '') !== undefined) report.falsePositivesKnownGap++;
        }
        if (fid.verdict !== undefined) {
          await timed('fidelity', () =>
            record('fidelity', c, fid.verdict as string, async (s) => {
              const a = await observe(world.a.analyst, 'query', { sql: s });
              return failing((await fidelity(world, s, a)).verdict);
            }),
          );
        }
      }
    }
    if (c.tool === 'query' && !ni.a.isError) {
      const t = await timed('touches', () => touches(world, sql));
      report.tried.touches++;
      if (t === SKIP) report.skipped.touches++;
      else if (t !== undefined) await timed('touches', () => record('touches', c, t, async (s) => failing(await touches(world, s))));
    }
    if (batch.length >= (options.batch ?? 25)) await closeBatch();
  }
  await closeBatch();
  await listener.close();
  report.elapsedMs = Date.now() - started;
  report.cases = Math.min(cases, options.maxCases ?? Infinity);
  return report;
}

/** Replay one regression case: the property's verdict (a problem text, or undefined when it holds). */
export async function replayRegression(world: World, r: Regression): Promise<string | undefined> {
  const c: FuzzCase = { kind: r.property === 'fidelity' ? 'green' : r.tool === 'execute' ? 'write' : 'read', tool: r.tool, tree: { parts: [r.sql], alts: [] } as Node, origin: 'regression' };
  switch (r.property) {
    case 'noninterference': {
      const v = c.kind === 'write' ? await noninterferenceWrite(world, r.sql, r.follow_up ?? 'SELECT 1') : (await noninterferenceRead(world, r.tool, r.sql)).verdict;
      return v === SKIP ? undefined : v;
    }
    case 'fidelity': {
      const a = await observe(world.a.analyst, 'query', { sql: r.sql });
      const v = (await fidelity(world, r.sql, a)).verdict;
      return v === SKIP ? undefined : v;
    }
    case 'touches': {
      const v = await touches(world, r.sql);
      return v === SKIP ? undefined : v;
    }
    case 'side-effects': {
      const s0 = await sideEffectSnapshot(world);
      await observe(world.a.analyst, r.tool, { sql: r.sql });
      return snapshotDifference(s0, await sideEffectSnapshot(world));
    }
  }
}

export function formatReport(r: FuzzReport): string {
  const lines = [`fuzz seed ${r.seed}: ${r.cases} cases in ${(r.elapsedMs / 1000).toFixed(1)} s`];
  for (const p of PROPERTIES) {
    const rate = r.timeMs[p] > 0 ? (r.tried[p] / (r.timeMs[p] / 1000)).toFixed(1) : '-';
    lines.push(`  ${p.padEnd(16)} tried ${String(r.tried[p]).padStart(5)}  skipped ${String(r.skipped[p]).padStart(4)}  ${rate} statements/s`);
  }
  lines.push(`  green statements judged ${r.greenTried}, false positives ${r.falsePositives} (${r.falsePositivesKnownGap} of them tracked known gaps)`);
  const known = r.findings.filter((f) => f.knownGap !== undefined);
  const violations = r.findings.filter((f) => f.knownGap === undefined);
  lines.push(`  violations ${violations.length}, known gaps hit ${known.length}`);
  for (const f of violations) lines.push(`  VIOLATION [${f.property}] ${f.tool}: ${f.shrunk}\n      ${f.detail}`);
  lines.push(`reproduce: npm run fuzz -- --seconds ${Math.round(r.elapsedMs / 1000)} --seed ${r.seed}`);
  return lines.join('\n');
}
