/**
 * Loading the configuration: one YAML file, `${VAR}` substitution, secrets by file reference,
 * environment fallbacks for the common cases, then the zod schema and cross-reference checks.
 *
 * Guarantees:
 * - Errors name YAML paths, environment variable names and file paths, never values: no DSN,
 *   password or token reaches a ConfigError message.
 * - The returned Config holds no raw bearer token: raw tokens are checked (length, duplicates)
 *   and replaced by their SHA-256 before loadConfig returns.
 * - Substitution happens on parsed values, never on YAML text, so a variable's value cannot
 *   inject YAML structure.
 * - Precedence, per value: overrides (CLI flags) > file > environment fallbacks > schema defaults.
 *   Policies are atomic: an environment-made policy never merges into a file policy.
 * Does not: watch the file for changes (callers reload by calling loadConfig again), or
 * connect to any database.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { digestToken, defaultTokenId } from './token-digest.js';
import { normalizeDsn } from './dsn.js';
import { ConfigError } from './errors.js';
import { closestKey, formatPath, objectKeysAt } from './introspect.js';
import { configSchema, logSchema, serverSchema, type Config } from './schema.js';
import { validateConfig } from './validate.js';

export type ConfigInput = z.input<typeof configSchema>;
type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
/** Values that win over the file and the environment (CLI flags such as --port). */
export type ConfigOverrides = DeepPartial<ConfigInput>;

export interface LoadConfigOptions {
  /** YAML file; defaults to $PGWARDEN_CONFIG. Without either, the environment alone must suffice. */
  path?: string;
  /** Environment for substitution and fallbacks (default process.env). */
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
  /** Clock for expiry checks (tests). */
  now?: Date;
  /** Skip the "http needs a token" check (commands that do not serve, e.g. `pgwarden check`). */
  allowNoTokens?: boolean;
}

export interface ParseConfigOptions {
  now?: Date;
  allowNoTokens?: boolean;
  /** Shown in the error heading, e.g. the file name. */
  source?: string;
}

type Raw = Record<string, unknown>;
type Path = (string | number)[];

/** Name of the database, principal and policy that the environment fallbacks create. */
export const ENV_DATABASE = 'main';
export const ENV_PRINCIPAL = 'agent';
export const ENV_POLICY = 'default';

const MAX_SECRET_FILE_BYTES = 1024 * 1024;
const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;

let versionCounter = 0;
const versions = new WeakMap<Config, number>();

/**
 * The version a loaded config was given (1, 2, …, incremented on every successful load);
 * part of the decision-cache key. 0 for a config that did not come from loadConfig.
 */
export function configVersion(config: Config): number {
  return versions.get(config) ?? 0;
}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const env = options.env ?? process.env;
  // an empty value is no file (a launcher that fills optional settings may pass PGWARDEN_CONFIG='')
  const path = nonEmpty(options.path) ?? nonEmpty(env.PGWARDEN_CONFIG);
  const issues: string[] = [];

  let file: Raw = {};
  let baseDir = process.cwd();
  if (path !== undefined) {
    file = await readYamlFile(path);
    baseDir = dirname(resolve(path));
    file = substituteEnv(file, env, [], issues) as Raw;
    if (issues.length > 0) throw new ConfigError(issues, `invalid configuration in ${path}`);
    file = (await resolveSecretRefs(file, [], baseDir, issues)) as Raw;
    if (issues.length > 0) throw new ConfigError(issues, `invalid configuration in ${path}`);
  }

  const fromEnv = await envLayer(env, file, issues);
  if (issues.length > 0) throw new ConfigError(issues, 'invalid environment');
  if (path === undefined && fromEnv.databases === undefined) {
    throw new ConfigError(
      ['no configuration: pass a config file (--config <file> or PGWARDEN_CONFIG) or set DATABASE_URL (or DATABASE_URL_FILE)'],
      'cannot load configuration',
    );
  }

  // principals/policies may be absent (e.g. DATABASE_URL alone): the cross checks then say
  // what is missing (a token for http) instead of "principals: required".
  const base: Raw = { principals: {}, policies: {} };
  const merged = deepMerge(deepMerge(deepMerge(base, fromEnv), file), (options.overrides ?? {}) as Raw);
  return parseConfig(merged, { now: options.now, allowNoTokens: options.allowNoTokens, source: path });
}

/**
 * Validate an in-memory configuration object (schema, then cross references), hash its raw
 * tokens and give it a version — what loadConfig does after reading the file and environment.
 * No substitution, file references or environment fallbacks. Throws ConfigError.
 */
export function parseConfig(input: unknown, options: ParseConfigOptions = {}): Config {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(formatZodIssues(parsed.error.issues), heading(options.source));

  const config = parsed.data;
  const crossIssues = validateConfig(config, options.now, { allowNoTokens: options.allowNoTokens });
  if (crossIssues.length > 0) throw new ConfigError(crossIssues, heading(options.source));

  hashRawTokens(config);
  normalizeDsns(config);
  versions.set(config, ++versionCounter);
  return config;
}

function heading(path: string | undefined): string {
  return path === undefined ? 'invalid configuration' : `invalid configuration in ${path}`;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function isPlainObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// YAML

async function readYamlFile(path: string): Promise<Raw> {
  let text: string;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ConfigError([`${path}: not a regular file`], 'cannot read configuration');
    if (st.size > MAX_CONFIG_FILE_BYTES) throw new ConfigError([`${path}: larger than ${MAX_CONFIG_FILE_BYTES} bytes`], 'cannot read configuration');
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError([readErrorMessage(path, errnoCode(err))], 'cannot read configuration');
  }
  return await parseYaml(text, path);
}

/**
 * Parse YAML text into a plain mapping; null values are dropped ("not set"). The yaml package is
 * loaded here, on the first file read: a configuration from the environment alone (DATABASE_URL)
 * starts without it (issue #13, start-up).
 */
export async function parseYaml(text: string, label = 'config'): Promise<Raw> {
  const { LineCounter, parseDocument } = await import('./yaml.js');
  const lineCounter = new LineCounter();
  // prettyErrors off: the pretty form quotes the source line, which may hold a secret.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return `${label}:${pos.line}:${pos.col}: ${e.message.split('\n')[0] ?? e.code}`;
      }),
      'invalid YAML',
    );
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) throw new ConfigError([`${label}: the top level must be a mapping (key: value)`], 'invalid YAML');
  const issues: string[] = [];
  const out = dropNulls(value, [], issues) as Raw;
  if (issues.length > 0) throw new ConfigError(issues, 'invalid YAML');
  return out;
}

/** Keys that would reach Object.prototype when assigned. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function dropNulls(v: unknown, path: Path, issues: string[]): unknown {
  if (Array.isArray(v)) return v.map((x, i) => dropNulls(x, [...path, i], issues));
  if (isPlainObject(v)) {
    const out: Raw = {};
    for (const [k, val] of Object.entries(v)) {
      if (RESERVED_KEYS.has(k)) issues.push(`${formatPath([...path, k])}: reserved key`);
      else if (val !== null && val !== undefined) out[k] = dropNulls(val, [...path, k], issues);
    }
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// ${VAR} substitution

const SUBST_RE = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const VAR_RE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * Replace `${VAR}` and `${VAR:-default}` in every string value; `$${` stands for a literal `${`.
 * `:-default` applies when VAR is unset or empty. Issues name the variable and the YAML path.
 */
export function substituteEnv(node: unknown, env: NodeJS.ProcessEnv, path: Path, issues: string[]): unknown {
  if (typeof node === 'string') return substituteString(node, env, path, issues);
  if (Array.isArray(node)) return node.map((v, i) => substituteEnv(v, env, [...path, i], issues));
  if (isPlainObject(node)) {
    const out: Raw = {};
    for (const [k, v] of Object.entries(node)) out[k] = substituteEnv(v, env, [...path, k], issues);
    return out;
  }
  return node;
}

function substituteString(s: string, env: NodeJS.ProcessEnv, path: Path, issues: string[]): string {
  if (!s.includes('${')) return s;
  return s.replace(SUBST_RE, (whole: string, inner: string | undefined) => {
    if (whole === '$${') return '${';
    if (inner === undefined) {
      issues.push(`${formatPath(path)}: unterminated \${ (write $\${ for a literal \${)`);
      return '';
    }
    const m = VAR_RE.exec(inner);
    if (!m) {
      issues.push(`${formatPath(path)}: malformed \${…} reference (expected \${NAME} or \${NAME:-default})`);
      return '';
    }
    const [, name, fallback] = m;
    const value = env[name as string];
    if (fallback !== undefined) return value === undefined || value === '' ? fallback : value;
    if (value === undefined) {
      issues.push(`${formatPath(path)}: environment variable ${name} is not set (use \${${name}:-default} for a default)`);
      return '';
    }
    return value;
  });
}

// ---------------------------------------------------------------------------------------------
// Secrets by file reference

const FILE_REF_RE = /^file:((?:\/|\.\/|\.\.\/)[\s\S]*)$/;
const FILE_KEY_RE = /^([a-z][a-z0-9_]*)_file$/;

/**
 * `key_file: /path` → `key: <trimmed file content>` wherever `key` is a schema key at that
 * place; any string `file:/abs` or `file:./rel` → the trimmed content. Relative paths are
 * resolved against `baseDir` (the config file's directory).
 */
export async function resolveSecretRefs(node: unknown, path: Path, baseDir: string, issues: string[]): Promise<unknown> {
  if (typeof node === 'string') {
    const m = FILE_REF_RE.exec(node);
    return m ? readSecretFile(resolve(baseDir, m[1] as string), path, issues) : node;
  }
  if (Array.isArray(node)) {
    const out: unknown[] = [];
    for (const [i, v] of node.entries()) out.push(await resolveSecretRefs(v, [...path, i], baseDir, issues));
    return out;
  }
  if (!isPlainObject(node)) return node;
  const keys = objectKeysAt(path);
  const out: Raw = {};
  for (const [k, v] of Object.entries(node)) {
    const m = FILE_KEY_RE.exec(k);
    const target = m?.[1];
    if (target !== undefined && keys !== undefined && keys.includes(target) && !keys.includes(k)) {
      if (Object.hasOwn(node, target)) {
        issues.push(`${formatPath([...path, k])}: set either ${target} or ${k}, not both`);
        continue;
      }
      if (typeof v !== 'string' || v === '') {
        issues.push(`${formatPath([...path, k])}: must be a file path`);
        continue;
      }
      out[target] = await readSecretFile(resolve(baseDir, v), [...path, k], issues);
    } else {
      out[k] = await resolveSecretRefs(v, [...path, k], baseDir, issues);
    }
  }
  return out;
}

async function readSecretFile(file: string, path: Path, issues: string[]): Promise<string> {
  const where = formatPath(path);
  try {
    const st = await stat(file);
    if (!st.isFile()) {
      issues.push(`${where}: ${file} is not a regular file`);
      return '';
    }
    if (st.size > MAX_SECRET_FILE_BYTES) {
      issues.push(`${where}: ${file} is larger than ${MAX_SECRET_FILE_BYTES} bytes`);
      return '';
    }
    const content = (await readFile(file, 'utf8')).trim();
    if (content === '') issues.push(`${where}: ${file} is empty`);
    return content;
  } catch (err) {
    issues.push(`${where}: cannot read ${file} (${errnoCode(err)})`);
    return '';
  }
}

/** What was looked for, why it failed, and how to get a working file. */
function readErrorMessage(path: string, code: string): string {
  const where = resolve(path) === path ? path : `${path} (looked for ${resolve(path)})`;
  if (code === 'ENOENT') {
    return `${where}: no such file. Copy the commented example config/pgwarden.yaml (shipped in the package) and edit it, or pass no --config and set DATABASE_URL and PGWARDEN_TOKEN for a one-database, read-only setup (docs/configuration.md)`;
  }
  if (code === 'EACCES' || code === 'EPERM') return `${where}: permission denied; make it readable by the user pgwarden runs as`;
  if (code === 'EISDIR') return `${where}: is a directory; pass the YAML file inside it`;
  return `${where}: ${code}`;
}

function errnoCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'read error';
}

// ---------------------------------------------------------------------------------------------
// Environment fallbacks

async function envSecret(env: NodeJS.ProcessEnv, name: string, issues: string[]): Promise<string | undefined> {
  const direct = nonEmpty(env[name]);
  const file = nonEmpty(env[`${name}_FILE`]);
  if (direct !== undefined && file !== undefined) {
    issues.push(`${name} and ${name}_FILE are both set: set only one`);
    return undefined;
  }
  if (file !== undefined) {
    const content = await readSecretFile(resolve(file), [`$${name}_FILE`], issues);
    return content === '' ? undefined : content;
  }
  return direct;
}

/**
 * The configuration the environment alone describes. Each part is only a fallback: the file
 * (merged over it) wins on every value both set.
 */
async function envLayer(env: NodeJS.ProcessEnv, file: Raw, issues: string[]): Promise<Raw> {
  const layer: Raw = {};

  const url = await envSecret(env, 'DATABASE_URL', issues);
  if (url !== undefined) layer.databases = { [ENV_DATABASE]: { url } };

  const principals: Record<string, { policy: string; tokens: { id: string; token: string }[] }> = {};
  const addToken = (principal: string, id: string, token: string): void => {
    const p = (principals[principal] ??= { policy: ENV_POLICY, tokens: [] });
    p.tokens.push({ id, token });
  };
  const single = await envSecret(env, 'PGWARDEN_TOKEN', issues);
  if (single !== undefined) addToken(ENV_PRINCIPAL, `${ENV_PRINCIPAL}#env`, single);
  const list = await envSecret(env, 'PGWARDEN_TOKENS', issues);
  if (list !== undefined) {
    list.split(',').forEach((entry, i) => {
      const trimmed = entry.trim();
      if (trimmed === '') return;
      const colon = trimmed.indexOf(':');
      const principal = colon > 0 ? trimmed.slice(0, colon).trim() : '';
      const token = colon > 0 ? trimmed.slice(colon + 1).trim() : '';
      if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/.test(principal) || token === '') {
        issues.push(`PGWARDEN_TOKENS: entry ${i + 1} must be principal:token`);
        return;
      }
      addToken(principal, `${principal}#env${i + 1}`, token);
    });
  }
  if (Object.keys(principals).length > 0) {
    layer.principals = principals;
    const filePolicies = isPlainObject(file.policies) ? file.policies : {};
    if (!Object.hasOwn(filePolicies, ENV_POLICY)) {
      layer.policies = {
        [ENV_POLICY]: {
          description: `Read-only access to database ${ENV_DATABASE} (made from the environment)`,
          databases: { [ENV_DATABASE]: { mode: 'read-only' } },
        },
      };
    }
  }

  const server: Raw = {};
  const host = nonEmpty(env.PGWARDEN_HOST);
  if (host !== undefined) server.host = host;
  const port = nonEmpty(env.PGWARDEN_PORT);
  if (port !== undefined) {
    if (/^\d{1,5}$/.test(port) && Number(port) <= 65535) server.port = Number(port);
    else issues.push('PGWARDEN_PORT: must be an integer from 0 to 65535');
  }
  const transport = nonEmpty(env.PGWARDEN_TRANSPORT);
  if (transport !== undefined) {
    if (serverSchema.safeParse({ transport }).success) server.transport = transport;
    else issues.push('PGWARDEN_TRANSPORT: must be http or stdio');
  }
  if (Object.keys(server).length > 0) layer.server = server;
  const level = nonEmpty(env.PGWARDEN_LOG_LEVEL);
  if (level !== undefined) {
    if (logSchema.safeParse({ level }).success) layer.log = { level };
    else issues.push('PGWARDEN_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent');
  }
  return layer;
}

// ---------------------------------------------------------------------------------------------
// Merge, schema errors, token hashing

/** Objects merge key by key; anything else (scalars, arrays) from `over` replaces `base`. */
export function deepMerge(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** zod issues as `path: message` lines; unknown keys get their own line and a "did you mean". */
export function formatZodIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = objectKeysAt(path) ?? [];
      for (const key of issue.keys) {
        const hint = closestKey(key, known);
        out.push(`${formatPath([...path, key])}: unknown key${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
    } else if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
      out.push(`${formatPath(path)}: required (expected ${issue.expected})`);
    } else if (issue.code === 'invalid_key') {
      out.push(`${formatPath(path)}: invalid name: ${issue.issues[0]?.message ?? issue.message}`);
    } else {
      out.push(`${formatPath(path)}: ${issue.message}`);
    }
  }
  return out;
}

/** Replace every raw `token` by its `sha256` and give every token an id (in place). */
function hashRawTokens(config: Config): void {
  for (const [principal, p] of Object.entries(config.principals)) {
    p.tokens = p.tokens.map((t, index) => {
      const { token, ...rest } = t;
      return {
        ...rest,
        id: t.id ?? defaultTokenId(principal, index),
        sha256: (t.sha256 ?? digestToken(token as string)).toLowerCase(),
      };
    });
  }
  // Operators too: the Config holds no raw token, and --dry-run shows every token one way.
  for (const [operator, o] of Object.entries(config.operators)) {
    o.tokens = o.tokens.map((t, index) => {
      const { token, ...rest } = t;
      return { ...rest, id: t.id ?? defaultTokenId(operator, index), sha256: (t.sha256 ?? digestToken(token as string)).toLowerCase() };
    });
  }
}

/** Every database URL in one form (libpq key/value strings become postgres:// URLs); validated already. */
function normalizeDsns(config: Config): void {
  for (const db of Object.values(config.databases)) {
    const dsn = normalizeDsn(db.url);
    if (dsn.ok) db.url = dsn.url;
  }
}
