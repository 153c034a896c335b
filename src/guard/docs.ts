/**
 * Generator for docs/reasons.md from the reason catalogue (src/guard/reasons.ts).
 *
 *   npx tsx src/guard/docs.ts > docs/reasons.md
 *
 * test/unit/guard/docs.test.ts fails when the checked-in file differs from this output, so the
 * docs cannot drift from the catalogue.
 */
import { pathToFileURL } from 'node:url';
import { REASONS, type ReasonCategory, type ReasonCode } from './reasons.js';

const CATEGORY_TITLES: Record<ReasonCategory, string> = {
  input: 'Input: the text itself',
  statement: 'Statement kinds',
  relation: 'Relations: tables, views, schemas, catalogs',
  function: 'Functions and operators',
  access: 'Access: principal, database, tool',
  runtime: 'Runtime: while running an allowed statement',
  write: 'Guarded writes',
  gateway: 'The gateway itself',
};

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderReasonsDoc(): string {
  const lines: string[] = [
    '<!-- GENERATED from src/guard/reasons.ts by `npx tsx src/guard/docs.ts > docs/reasons.md`; do not edit by hand.',
    '     test/unit/guard/docs.test.ts fails when this file and the catalogue drift apart. -->',
    '',
    '# Reason codes',
    '',
    'Every refusal and every error an agent sees carries a stable `code`, a `message` naming the',
    'subject (identifiers only, never SQL literals) and a `fix` the agent can act on. Codes are never',
    'renamed once released. The fixes below are the defaults; the guard often gives a more specific',
    'one (e.g. naming an allowed table to use instead).',
    '',
  ];
  const byCategory = new Map<ReasonCategory, ReasonCode[]>();
  for (const code of Object.keys(REASONS) as ReasonCode[]) {
    const cat = REASONS[code].category;
    const list = byCategory.get(cat) ?? [];
    list.push(code);
    byCategory.set(cat, list);
  }
  for (const [cat, codes] of byCategory) {
    lines.push(`## ${CATEGORY_TITLES[cat]}`, '', '| code | meaning | fix |', '|---|---|---|');
    for (const code of codes) {
      const d = REASONS[code];
      lines.push(`| \`${code}\` | ${cell(d.summary)} | ${cell(d.fix)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(renderReasonsDoc());
}
