/**
 * The leak corpus (issue #4): statements an agent could use to extract a masked value — through
 * aliases, expressions, whole-row references, JSON and aggregates, subqueries, CTEs, set
 * operations, joins, LATERAL, window functions, grouping/ordering/WHERE inference, views,
 * functions, EXPLAIN, errors and describe samples.
 *
 * Guarantees: every case file is validated (unknown keys are errors); ids are stable
 * (`<file>#<n>`). Each case says what it expects: `rows` (it must run and return rows: the check
 * is not vacuous), `refused` (a refusal, optionally with codes) or `any`.
 * Does not: run anything (test/integration/mask/leaks.test.ts does, through the real gateway).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isReasonCode } from '../../../src/guard/reasons.js';

export const LEAKS_DIR = dirname(fileURLToPath(import.meta.url));

const caseSchema = z.strictObject({
  sql: z.string().optional(),
  tool: z.enum(['query', 'explain', 'describe']).default('query'),
  /** explain tool: EXPLAIN ANALYZE. */
  analyze: z.boolean().default(false),
  /** describe tool: the table. */
  table: z.string().optional(),
  expect: z.enum(['rows', 'refused', 'any']).default('rows'),
  codes: z.array(z.string().refine(isReasonCode, 'not a reason code')).default([]),
  why: z.string().min(3),
});

const fileSchema = z.strictObject({
  class: z.string().min(1),
  cases: z.array(caseSchema).min(1),
});

export type LeakCase = z.infer<typeof caseSchema> & { id: string; class: string };

export function loadLeakCorpus(): LeakCase[] {
  const out: LeakCase[] = [];
  for (const file of readdirSync(LEAKS_DIR).filter((f) => f.endsWith('.yaml')).sort()) {
    const parsed = fileSchema.parse(parseYaml(readFileSync(join(LEAKS_DIR, file), 'utf8')));
    parsed.cases.forEach((c, i) => {
      if (c.tool === 'describe' ? c.table === undefined : c.sql === undefined) throw new Error(`${file}#${i + 1}: ${c.tool} needs ${c.tool === 'describe' ? 'table' : 'sql'}`);
      out.push({ ...c, id: `${file}#${i + 1}`, class: parsed.class });
    });
  }
  return out;
}

/** The masks the corpus is run with (policy `masks`), over the demo schema. */
export const LEAK_MASKS = {
  'app.customers.email': { mask: 'email' },
  'app.customers.phone': { mask: 'partial', keep_last: 4 },
  'app.customers.ssn': { mask: 'hash' },
  'app.customers.full_name': { mask: 'redact' },
  'app.orders.shipping_address': { mask: 'null' },
} as const;
