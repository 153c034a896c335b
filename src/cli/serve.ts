/**
 * `pgwarden serve`: load configuration, build the runtime, serve MCP over HTTP or stdio, and
 * shut down cleanly on SIGTERM/SIGINT (readiness 503, drain within budget, cancel leftovers,
 * close pools, exit 0).
 *
 * Start-up order (issue #13): configuration first (zod, yaml), then the databases are opened and
 * their first catalog snapshot started (src/app/databases.ts, the pg driver only), and only then
 * the rest of the gateway is loaded (src/app/runtime.ts: the MCP SDK, the guard and its parser,
 * masking, audit), so connecting, authenticating and the snapshot queries overlap that loading;
 * the parser's WebAssembly is read and compiled meanwhile too, and the parser functions a first
 * parse runs are compiled once it is instantiated (src/guard/pgquery.ts, warmUpParse).
 * The HTTP server (fastify) is loaded only for --transport http.
 */
import { isConfigError, loadConfig, redactConfig } from '../config/index.js';
import { databasePolicySchema, policySchema, principalSchema, type Config } from '../config/schema.js';
import { ENV_POLICY, ENV_PRINCIPAL } from '../config/index.js';
import { createLogger, type Logger } from '../log/logger.js';
import type { Runtime } from '../app/runtime.js';
import { TokenStore } from '../auth/tokens.js';
import { resultBudget } from '../shared/budget.js';

export interface ServeOptions {
  config?: string | undefined;
  transport?: string | undefined;
  host?: string | undefined;
  port?: string | undefined;
  principal?: string | undefined;
  dryRun?: boolean;
}

export async function serveCommand(opts: ServeOptions): Promise<number> {
  const config = await loadConfig({ path: opts.config, env: process.env, overrides: cliOverrides(opts) });
  if (opts.dryRun) {
    const { stringify } = await import('../config/yaml.js');
    process.stdout.write(stringify(redactConfig(config)));
    return 0;
  }
  // start reading and compiling the parser's WebAssembly now, so the compile overlaps the loading
  // below (createRuntime's loadParser then finds it done or in flight; a failure surfaces there);
  // once instantiated, compile the functions a first parse runs (V8 compiles wasm lazily) before
  // the first call, while the database connects and its catalog snapshot runs
  import('../guard/pgquery.js').then(async (m) => (await m.loadModule(), m.warmUpParse())).catch(() => undefined);
  const logger = createLogger(config.log.level);
  if (config.server.transport === 'stdio') addLocalPrincipal(config);
  const { openDatabases, warmCatalogs } = await import('../app/databases.js');
  const databases = openDatabases(config, logger);
  warmCatalogs(databases);
  let runtime: Runtime;
  try {
    const { createRuntime } = await import('../app/runtime.js');
    runtime = await createRuntime(config, logger, { databases });
  } catch (err) {
    // the warm-up's connections would keep the process alive after a refused start
    await Promise.all([...databases.values()].map((d) => d.end().catch(() => undefined)));
    throw err;
  }
  if (config.server.transport === 'stdio') return serveStdioTransport(runtime, config, logger, opts.principal);
  return serveHttpTransport(runtime, config, logger, opts);
}

function cliOverrides(opts: ServeOptions): { server?: Partial<Config['server']> } {
  const server: Partial<Config['server']> = {};
  if (opts.transport !== undefined) {
    if (opts.transport !== 'http' && opts.transport !== 'stdio') throw new Error('--transport must be http or stdio');
    server.transport = opts.transport;
  }
  if (opts.host !== undefined) server.host = opts.host;
  if (opts.port !== undefined) {
    const port = Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be an integer 0-65535');
    server.port = port;
  }
  return Object.keys(server).length > 0 ? { server } : {};
}

export interface RunningHttp {
  url: string;
  stop: (signal?: string) => Promise<void>;
}

/** Start the HTTP transport; returns once listening. Used by serve and demo. */
export async function startHttp(runtime: Runtime, config: Config, logger: Logger): Promise<RunningHttp> {
  const { buildHttpApp, startHttpServer } = await import('../http/index.js');
  const app = await buildHttpApp({
    server: config.server,
    authenticator: runtime.tokens,
    mcpFactory: runtime.httpFactory,
    toolCall: runtime.httpToolCall,
    readiness: () => runtime.gateway.ready(),
    logger,
    lifecycle: runtime.lifecycle,
    onAuthFailure: runtime.onAuthFailure,
    telemetry: runtime.telemetry,
    ...(runtime.admin ? { admin: runtime.admin } : {}),
  });
  const handle = await startHttpServer(app, config.server);
  let stopping: Promise<void> | undefined;
  const stop = (signal?: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ signal }, 'shutting down: readiness is 503, draining in-flight calls');
      const report = await handle.stop({ onCancel: () => runtime.gateway.cancelInflight() });
      await runtime.gateway.shutdown(0);
      await runtime.telemetry.shutdown().catch(() => undefined);
      logger.info(report, 'stopped');
      logger.flush?.();
    })();
    return stopping;
  };
  return { url: handle.url, stop };
}

async function serveHttpTransport(runtime: Runtime, config: Config, logger: Logger, opts: ServeOptions): Promise<number> {
  const running = await startHttp(runtime, config, logger);
  logger.info({ endpoint: `${running.url}/mcp` }, 'pgwarden listening');
  const stopReloads = reloadOnSighup(runtime, logger, opts);
  await waitForSignal(async (signal) => running.stop(signal));
  stopReloads();
  return 0;
}

/**
 * SIGHUP reloads the configuration file as a whole: every credential store is rebuilt and every
 * start-up validation re-run before anything is swapped; a file that fails either is refused
 * and the running configuration stays. The log names the changed keys (never values) and warns
 * about each changed key that needs a restart (docs/configuration.md, "Reloading").
 */
export function reloadOnSighup(runtime: Runtime, logger: Logger, opts: ServeOptions): () => void {
  let chain: Promise<void> = Promise.resolve();
  const reloadOnce = async (): Promise<void> => {
    try {
      const next = await loadConfig({ path: opts.config, env: process.env, overrides: cliOverrides(opts) });
      await runtime.verify(next);
      const changes = runtime.reload(next);
      logger.info({ configVersion: runtime.gateway.configVersion, changed: changes.applied }, 'configuration reloaded');
      if (changes.restart.length > 0) logger.warn({ keys: changes.restart }, 'configuration keys changed that need a restart: the running values stay until then');
    } catch (err) {
      const problems = isConfigError(err) ? err.issues : undefined;
      logger.error({ err: err instanceof Error ? err.message : String(err), ...(problems ? { problems } : {}) }, 'configuration reload refused; the running configuration stays');
    }
  };
  // One reload at a time, in signal order: two quick SIGHUPs never interleave their swaps.
  const onHup = (): void => {
    chain = chain.then(reloadOnce);
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}

async function serveStdioTransport(runtime: Runtime, config: Config, logger: Logger, principalFlag: string | undefined): Promise<number> {
  const principal = stdioPrincipal(config, principalFlag);
  resultBudget.configure({ capacity: config.server.result_budget_bytes, waitMs: config.server.result_budget_wait_ms });
  const { serveStdio } = await import('@modelcontextprotocol/server/stdio');
  // The SDK's stdio transport with the tools/call fast path (src/mcp/stdio.ts, issue #13).
  const [{ FastStdioTransport }, { directToolCaller }] = await Promise.all([import('../mcp/stdio.js'), import('../mcp/tool-call.js')]);
  const transport = new FastStdioTransport({ principal, toolCall: directToolCaller(runtime.gateway) });
  const handle = serveStdio(runtime.stdioFactory(principal), { transport, onerror: (err) => logger.warn({ err: err.message }, 'stdio transport error') });
  logger.info({ principal }, 'pgwarden serving MCP over stdio');
  const closed = new Promise<string>((resolve) => process.stdin.once('end', () => resolve('stdin closed')));
  const signal = await Promise.race([closed, nextSignal()]);
  logger.info({ signal }, 'shutting down');
  await runtime.gateway.shutdown(config.server.drain_timeout_ms);
  await runtime.telemetry.shutdown().catch(() => undefined);
  await handle.close().catch(() => undefined);
  return 0;
}

/**
 * The simplest local start is `DATABASE_URL=… pgwarden serve --transport stdio`: with no principal
 * configured, stdio serves a principal `agent` under a read-only policy over every configured
 * database (the same default the environment creates for PGWARDEN_TOKEN).
 */
export function addLocalPrincipal(config: Config): void {
  if (Object.keys(config.principals).length > 0) return;
  const policyName = config.policies[ENV_POLICY] ? `${ENV_POLICY}_stdio` : ENV_POLICY;
  const databases = Object.fromEntries(Object.keys(config.databases).map((db) => [db, databasePolicySchema.parse({ mode: 'read-only' })]));
  config.policies[policyName] = policySchema.parse({ description: 'Read-only local access (stdio, no principal configured)', databases });
  config.principals[ENV_PRINCIPAL] = principalSchema.parse({ policy: policyName, tokens: [] });
}

/**
 * Which principal a stdio session acts as: --principal, PGWARDEN_PRINCIPAL, the principal whose
 * token is in PGWARDEN_TOKEN, or the only configured principal.
 */
export function stdioPrincipal(config: Config, flag: string | undefined): string {
  // empty is unset (a launcher that fills optional settings may pass PGWARDEN_PRINCIPAL='')
  const named = flag || process.env.PGWARDEN_PRINCIPAL || undefined;
  if (named !== undefined) {
    if (!(named in config.principals)) throw new Error(`unknown principal "${named}"`);
    return named;
  }
  const token = process.env.PGWARDEN_TOKEN;
  if (token !== undefined && token !== '') {
    const auth = new TokenStore(config).authenticate(`Bearer ${token}`);
    if (auth.ok) return auth.principal;
    throw new Error('PGWARDEN_TOKEN does not match any configured token');
  }
  const names = Object.keys(config.principals);
  if (names.length === 1) return names[0] as string;
  throw new Error('several principals are configured: choose one with --principal or PGWARDEN_PRINCIPAL');
}

function nextSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(s);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export async function waitForSignal(onSignal: (signal: string) => Promise<void>): Promise<void> {
  const signal = await nextSignal();
  const first = Date.now();
  // A deliberate second signal while draining forces the exit. A terminal's Ctrl-C reaches every
  // process of the group (npm, tsx, node) and wrappers relay it too, so repeats within a moment
  // of the first are the same keypress, not a second request.
  const force = (): void => {
    if (Date.now() - first > DUPLICATE_SIGNAL_MS) process.exit(130);
  };
  process.on('SIGINT', force);
  process.on('SIGTERM', force);
  await onSignal(signal);
  process.off('SIGINT', force);
  process.off('SIGTERM', force);
}

/** Signals this soon after the first are treated as the same request. */
const DUPLICATE_SIGNAL_MS = 1_500;

