/**
 * The adversarial corpus: statements that MUST be blocked and realistic analyst queries that
 * MUST be allowed, judged under the `analyst` policy of test/corpus/policy.yaml over the demo
 * schema (src/demo/seed.sql).
 *
 * Guarantees: every case file is validated (unknown keys, unknown reason codes, missing `why`
 * are errors, not silently skipped); ids are stable (`<dir>/<file>#<n>`, n counted from 1 in
 * file order) and unique; generated cases (sizes and depths YAML cannot express) are included.
 * Does not: judge anything. The pure run is test/unit/corpus.test.ts; the run through the real
 * gateway is test/integration/corpus.test.ts; `npx tsx test/corpus/verify-pg.ts <dsn>` checks
 * that every must-allow case actually runs on a seeded demo database.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { databasePolicySchema, databaseSchema } from '../../src/config/schema.js';
import type { DatabasePolicy } from '../../src/config/schema.js';
import { isReasonCode } from '../../src/guard/reasons.js';
import type { ReasonCode } from '../../src/guard/reasons.js';
import type { ToolName } from '../../src/guard/types.js';
import { generatedCases } from './generated.js';

export const CORPUS_DIR = dirname(fileURLToPath(import.meta.url));

export type Expectation = 'block' | 'allow';

export interface CorpusCase {
  /** Stable id: `block/multi-statement.yaml#3`. */
  id: string;
  /** The file's class (its `class:` key), e.g. "multi-statement". */
  class: string;
  sql: string;
  expect: Expectation;
  /** Every one of these codes must appear among the decision's reasons. */
  codes: ReasonCode[];
  /** At least one of these codes must appear (for cases where two codes are equally right). */
  codesAny: ReasonCode[];
  /** One line: why this case must be blocked / allowed. */
  why: string;
  /** The tool the statement is sent to (default `query`). */
  tool: ToolName;
  /** The text is meant not to parse (checked against libpg-query by the unit run). */
  parseError: boolean;
  /** Set only while the engine cannot handle the case; the unit run reports these separately. */
  knownGap?: string;
}

const reasonCode = z.string().refine(isReasonCode, { message: 'not a reason code in src/guard/reasons.ts' });

const caseSchema = z.strictObject({
  sql: z.string(),
  expect: z.enum(['block', 'allow']),
  codes: z.array(reasonCode).optional(),
  codes_any: z.array(reasonCode).optional(),
  why: z.string().min(3),
  tool: z.enum(['query', 'explain', 'check']).optional(),
  parse_error: z.boolean().optional(),
  known_gap: z.string().min(3).optional(),
});

const fileSchema = z.strictObject({
  class: z.string().min(1),
  description: z.string().optional(),
  cases: z.array(caseSchema).min(1),
});

function listYaml(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

function loadFile(sub: 'block' | 'allow', file: string): CorpusCase[] {
  const path = join(CORPUS_DIR, sub, file);
  const parsed = fileSchema.safeParse(parseYaml(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new Error(`${sub}/${file}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data.cases.map((c, i) => {
    const id = `${sub}/${file}#${i + 1}`;
    if (c.expect !== sub) throw new Error(`${id}: expect '${c.expect}' in the ${sub}/ directory`);
    if (c.expect === 'allow' && (c.codes?.length || c.codes_any?.length || c.parse_error)) {
      throw new Error(`${id}: an allow case cannot carry codes or parse_error`);
    }
    const out: CorpusCase = {
      id,
      class: parsed.data.class,
      // Block scalars end with a newline; keep the text otherwise byte-exact.
      sql: c.sql.replace(/\n$/, ''),
      expect: c.expect,
      codes: (c.codes ?? []) as ReasonCode[],
      codesAny: (c.codes_any ?? []) as ReasonCode[],
      why: c.why,
      tool: c.tool ?? 'query',
      parseError: c.parse_error ?? false,
    };
    if (c.known_gap !== undefined) out.knownGap = c.known_gap;
    return out;
  });
}

let cached: CorpusCase[] | undefined;

/** Every corpus case: block/*.yaml, allow/*.yaml, then the generated cases. */
export function loadCorpus(): CorpusCase[] {
  if (cached) return cached;
  const all: CorpusCase[] = [];
  for (const sub of ['block', 'allow'] as const) {
    for (const file of listYaml(join(CORPUS_DIR, sub))) all.push(...loadFile(sub, file));
  }
  all.push(...generatedCases());
  const seen = new Set<string>();
  for (const c of all) {
    if (seen.has(c.id)) throw new Error(`duplicate corpus id ${c.id}`);
    seen.add(c.id);
  }
  cached = all;
  return all;
}

/** The corpus policy as the guard and the gateway consume it. */
export interface CorpusPolicy {
  policyName: string;
  database: string;
  policy: DatabasePolicy;
  searchPath: string[];
  /** The whole YAML document (a partial gateway config: `databases` and `policies`). */
  raw: { databases: Record<string, unknown>; policies: Record<string, unknown> };
}

const policyFileSchema = z.object({
  databases: z.record(z.string(), z.unknown()),
  policies: z.record(z.string(), z.object({ databases: z.record(z.string(), z.unknown()) }).loose()),
});

/** Load test/corpus/policy.yaml: policy `analyst` on database `demo`, validated by the real schema. */
export function loadCorpusPolicy(): CorpusPolicy {
  const doc = policyFileSchema.parse(parseYaml(readFileSync(join(CORPUS_DIR, 'policy.yaml'), 'utf8')));
  const policyName = 'analyst';
  const database = 'demo';
  const db = databaseSchema.parse(doc.databases[database]);
  const policy = databasePolicySchema.parse(doc.policies[policyName]?.databases[database]);
  return {
    policyName,
    database,
    policy,
    searchPath: db.search_path,
    raw: { databases: doc.databases, policies: doc.policies },
  };
}

/** Counts per expectation, for reports and the ≥300 / ≥150 floor. */
export function corpusCounts(cases: readonly CorpusCase[]): Record<Expectation, number> {
  return {
    block: cases.filter((c) => c.expect === 'block').length,
    allow: cases.filter((c) => c.expect === 'allow').length,
  };
}

/** The part of a verdict the corpus judges: the pure guard's Decision and the gateway's refusal both fit. */
export interface Verdict {
  decision: string;
  reasons: ReadonlyArray<{ code: string }>;
  kind?: string;
}

function describeVerdict(c: CorpusCase, v: Verdict): string {
  const codes = v.reasons.map((r) => r.code).join(', ') || '(none)';
  const sql = c.sql.length > 300 ? `${c.sql.slice(0, 300)}… (${c.sql.length} chars)` : c.sql;
  const want =
    (c.codes.length ? ` with ${c.codes.join('+')}` : '') + (c.codesAny.length ? ` with one of ${c.codesAny.join('|')}` : '');
  return `${c.id} [${c.class}] expected ${c.expect}${want}; got ${v.decision}${v.kind ? ` (kind ${v.kind})` : ''} reasons: ${codes}\n  why: ${c.why}\n  sql: ${sql}`;
}

/**
 * Judges one verdict against its case: undefined when right, else a message naming the case,
 * what was expected and what came back. Must-allow: decision 'allow' and no reasons. Must-block:
 * decision 'block' (or, with `acceptErrors`, the gateway's 'error' refusal), every `codes` entry
 * present, and at least one `codes_any` entry present.
 */
export function verdictProblem(c: CorpusCase, v: Verdict, opts: { acceptErrors?: boolean } = {}): string | undefined {
  const got = new Set(v.reasons.map((r) => r.code));
  if (c.expect === 'allow') {
    return v.decision === 'allow' && v.reasons.length === 0 ? undefined : describeVerdict(c, v);
  }
  const refused = v.decision === 'block' || (opts.acceptErrors === true && v.decision === 'error');
  if (!refused || v.reasons.length === 0) return describeVerdict(c, v);
  const missing = c.codes.filter((code) => !got.has(code));
  if (missing.length > 0) return `${describeVerdict(c, v)}\n  missing codes: ${missing.join(', ')}`;
  if (c.codesAny.length > 0 && !c.codesAny.some((code) => got.has(code))) {
    return `${describeVerdict(c, v)}\n  none of: ${c.codesAny.join(', ')}`;
  }
  return undefined;
}
