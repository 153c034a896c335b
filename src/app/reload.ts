/**
 * What a configuration reload (SIGHUP) may change, and what it changed.
 *
 * Guarantees:
 * - reloadRule() classifies every key path of the schema (allKeyPaths form, `<name>` for record
 *   entries) as applied on reload or needing a restart; a key no rule names needs a restart
 *   (fail safe: a new section is never silently "applied"). docs/configuration.md lists the same
 *   rules and a test keeps the two equal.
 * - changedKeys() names every changed leaf by its path (arrays are one leaf), never by value:
 *   the reload log can list it without leaking tokens, DSN passwords or keys.
 * - reloadProblems() re-runs every start-up validation that is not already part of loading the
 *   file (masking, operator tokens distinct from agent tokens) plus the checks that only make
 *   sense against the running process (a database made read-write that has no write state);
 *   any problem refuses the whole file.
 * Does not: apply anything (src/app/runtime.ts swaps the stores, Gateway.reload the config).
 */
import type { Config } from '../config/schema.js';
import { formatPath } from '../config/index.js';
import { validateMasking } from '../mask/index.js';
import { operatorTokenProblems } from '../auth/operators.js';

/** One row of the reload table: a key prefix and whether keys under it apply on reload. */
export interface ReloadRule {
  /** Key path in allKeyPaths form; covers the key itself and every key under it. */
  prefix: string;
  reload: boolean;
  note: string;
}

/** Most specific prefix wins (rules are matched longest first). */
export const RELOAD_RULES: readonly ReloadRule[] = [
  { prefix: 'server', reload: false, note: 'listener, limits and keys of the HTTP server are fixed for the process' },
  { prefix: 'log', reload: true, note: 'the process logger level changes at once' },
  { prefix: 'guard', reload: true, note: 'a new guard (and decision cache) is built; catalog caches take the new TTL' },
  { prefix: 'guard.judging', reload: false, note: 'the judging workers are started with these; on reload they take the new guard limits and masking key' },
  { prefix: 'audit', reload: false, note: 'the audit sink stays open as started' },
  { prefix: 'telemetry', reload: false, note: 'exporters and the Prometheus listener start once' },
  { prefix: 'masking', reload: true, note: 'hash masks use the new key from the next call' },
  { prefix: 'journal', reload: false, note: 'the journal schema and retention are fixed for the process' },
  { prefix: 'operators', reload: true, note: 'operator tokens are rebuilt (a removed operator is refused at once); needs a restart when the admin API was not served at start' },
  { prefix: 'databases', reload: false, note: 'see the keys below' },
  { prefix: 'databases.<name>', reload: false, note: 'adding or removing a database, its URL, pool, TLS, search_path and application_name need a restart' },
  { prefix: 'databases.<name>.limits', reload: true, note: 'read and write limits apply to the next call' },
  { prefix: 'databases.<name>.description', reload: true, note: 'shown by status from the next call' },
  { prefix: 'principals', reload: true, note: 'principals and their tokens are rebuilt (a removed token is refused at once)' },
  { prefix: 'tools', reload: true, note: 'predefined tools are judged for every grantee before the file applies, then listed and served from the next call' },
  { prefix: 'resources', reload: true, note: 'operator resources are judged for every grantee before the file applies, then listed and read from the next request' },
  { prefix: 'prompts', reload: true, note: 'operator prompts are offered from the next request' },
  { prefix: 'policies', reload: true, note: 'every rule, threshold and mask applies to the next call, to approvals and to reverts; a database may not become read-write without a restart' },
];

const SORTED = [...RELOAD_RULES].sort((a, b) => b.prefix.length - a.prefix.length);

/** The rule for a key path (allKeyPaths form, or concrete segments generalized by generalize()). */
export function reloadRule(keyPath: string): ReloadRule | undefined {
  return SORTED.find((r) => keyPath === r.prefix || keyPath.startsWith(`${r.prefix}.`) || keyPath.startsWith(`${r.prefix}[`));
}

/** Whether a key path applies on reload (unknown keys: no). */
export function appliesOnReload(keyPath: string): boolean {
  return reloadRule(keyPath)?.reload === true;
}

/**
 * The reload list of docs/configuration.md: one line per rule with every schema key it governs
 * (a test keeps the doc equal to this).
 */
export function reloadDocLines(keyPaths: readonly string[]): string[] {
  return RELOAD_RULES.map((rule) => {
    const keys = keyPaths.filter((k) => reloadRule(k.replace(/\[\]/g, '')) === rule);
    const list = keys.length > 0 ? keys.map((k) => `\`${k}\``).join(', ') : `\`${rule.prefix}\``;
    return `- **${rule.reload ? 'applies' : 'restart'}** \`${rule.prefix}\` — ${rule.note}. Keys: ${list}.`;
  });
}

/** Sections whose second segment is a record name. */
const RECORD_SECTIONS = new Set(['databases', 'principals', 'policies', 'operators', 'tools', 'resources', 'prompts']);

/** `['databases', 'a.b', 'limits']` → `databases.<name>.limits` (the form of the rules). */
export function generalize(path: readonly string[]): string {
  const out = path.map((seg, i) => (i === 1 && RECORD_SECTIONS.has(path[0] ?? '') ? '<name>' : seg));
  return out.join('.');
}

/** Changed leaves between two configurations, as segment paths (arrays compare as one leaf). */
export function changedPaths(before: unknown, after: unknown, path: string[] = []): string[][] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    const out: string[][] = [];
    for (const k of [...keys].sort()) {
      if (!Object.hasOwn(before, k) || !Object.hasOwn(after, k)) {
        if (before[k] !== undefined || after[k] !== undefined) out.push([...path, k]);
        continue;
      }
      out.push(...changedPaths(before[k], after[k], [...path, k]));
    }
    return out;
  }
  return JSON.stringify(before) === JSON.stringify(after) ? [] : [path];
}

export interface ReloadChanges {
  /** Changed keys that take effect (formatted paths, no values). */
  applied: string[];
  /** Changed keys that keep their running value until a restart. */
  restart: string[];
}

/**
 * Classify what changed from the running to the new configuration. `adminServed`: operator keys
 * apply only when the admin API exists in this process.
 */
export function classifyChanges(running: Config, next: Config, options: { adminServed: boolean }): ReloadChanges {
  const applied: string[] = [];
  const restart: string[] = [];
  for (const p of changedPaths(running, next)) {
    const key = generalize(p);
    const ok = appliesOnReload(key) && !(p[0] === 'operators' && !options.adminServed);
    (ok ? applied : restart).push(formatPath(p));
  }
  return { applied, restart };
}

/**
 * Start-up validations re-run against a reloaded file, plus what the running process cannot
 * take without a restart. Empty: the file may be applied.
 */
export function reloadProblems(next: Config, running: { writable: readonly string[] }): string[] {
  const problems = [...validateMasking(next), ...operatorTokenProblems(next)];
  const writable = new Set(running.writable);
  for (const [policyName, policy] of Object.entries(next.policies)) {
    for (const [db, p] of Object.entries(policy.databases)) {
      if (p.mode !== 'read-write' || writable.has(db)) continue;
      problems.push(
        `${formatPath(['policies', policyName, 'databases', db, 'mode'])}: read-write on database ${db}, which had no write journal when the gateway started; restart to enable writes there`,
      );
    }
  }
  return problems;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
