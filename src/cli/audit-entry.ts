/** `pgwarden audit verify|stats FILE…` — argument parsing; the work lives in src/cli/audit.ts. */
import { parseArgs } from 'node:util';

export async function auditCli(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (positionals.length === 0 || (sub !== 'verify' && sub !== 'stats')) {
    process.stderr.write('usage: pgwarden audit verify FILE... | pgwarden audit stats FILE... [--json]\n');
    return 64;
  }
  const audit = await import('./audit.js');
  if (sub === 'verify') return audit.verifyCommand(positionals, { json: values.json === true });
  return audit.statsCommand(positionals, { json: values.json === true });
}
