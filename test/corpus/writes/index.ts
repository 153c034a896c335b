/**
 * The write corpus (issue #5): writes judged as policy `writer` (policy.yaml, read-write) on the
 * demo database plus extra-schema.sql.
 *
 * Each case expects one of:
 * - `block`: the guard refuses it statically (codes must all appear);
 * - `hold`:  the guard allows it, and measured on a real database its blast radius exceeds
 *            confirm_above_rows (a predicate that looks selective but matches nearly every row);
 * - `allow`: the guard allows it and it runs (blast radius within confirm_above_rows).
 * The pure run (test/unit/guard/write/corpus.test.ts) checks the static verdicts (hold and allow
 * both mean "the guard allows it"); the integration run (test/integration/write-plan) measures
 * hold/allow cases with the planner's SQL against a real PostgreSQL and applies the thresholds.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { databasePolicySchema, databaseSchema, type DatabasePolicy } from '../../../src/config/schema.js';
import { isReasonCode, type ReasonCode } from '../../../src/guard/reasons.js';

export const WRITE_CORPUS_DIR = dirname(fileURLToPath(import.meta.url));

export type WriteExpectation = 'block' | 'hold' | 'allow';

export interface WriteCase {
  id: string;
  class: string;
  sql: string;
  expect: WriteExpectation;
  codes: ReasonCode[];
  tool: 'execute' | 'check';
  why: string;
}

const caseSchema = z.strictObject({
  sql: z.string(),
  expect: z.enum(['block', 'hold', 'allow']),
  codes: z.array(z.string().refine(isReasonCode, { message: 'not a reason code in src/guard/reasons.ts' })).optional(),
  tool: z.enum(['execute', 'check']).optional(),
  why: z.string().min(3),
});

const fileSchema = z.strictObject({
  class: z.string().min(1),
  description: z.string().optional(),
  cases: z.array(caseSchema).min(1),
});

const cached = new Map<string, WriteCase[]>();

/** The write corpus in `dir` (default: this directory; test/corpus/masked-writes uses the same format). */
export function loadWriteCorpus(dir: string = WRITE_CORPUS_DIR): WriteCase[] {
  const hit = cached.get(dir);
  if (hit) return hit;
  const out: WriteCase[] = [];
  const prefix = dir.split(/[\\/]/).filter(Boolean).pop() ?? 'writes';
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'policy.yaml').sort()) {
    const parsed = fileSchema.safeParse(parseYaml(readFileSync(join(dir, file), 'utf8')));
    if (!parsed.success) throw new Error(`${prefix}/${file}: ${z.prettifyError(parsed.error)}`);
    parsed.data.cases.forEach((c, i) => {
      const id = `${prefix}/${file}#${i + 1}`;
      if (c.expect !== 'block' && c.codes?.length) throw new Error(`${id}: only block cases carry codes`);
      if (c.expect === 'block' && !c.codes?.length) throw new Error(`${id}: a block case needs codes`);
      out.push({
        id,
        class: parsed.data.class,
        sql: c.sql.replace(/\n$/, ''),
        expect: c.expect,
        codes: (c.codes ?? []) as ReasonCode[],
        tool: c.tool ?? 'execute',
        why: c.why,
      });
    });
  }
  cached.set(dir, out);
  return out;
}

export interface WriteCorpusPolicy {
  policyName: string;
  database: string;
  policy: DatabasePolicy;
  searchPath: string[];
}

export function loadWritePolicy(dir: string = WRITE_CORPUS_DIR): WriteCorpusPolicy {
  const doc = parseYaml(readFileSync(join(dir, 'policy.yaml'), 'utf8')) as {
    databases: Record<string, unknown>;
    policies: Record<string, { databases: Record<string, unknown> }>;
  };
  const db = databaseSchema.parse(doc.databases.demo);
  return { policyName: 'writer', database: 'demo', policy: databasePolicySchema.parse(doc.policies.writer?.databases.demo), searchPath: db.search_path };
}

export function extraSchemaSql(dir: string = WRITE_CORPUS_DIR): string {
  return readFileSync(join(dir, 'extra-schema.sql'), 'utf8');
}
