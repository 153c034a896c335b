#!/usr/bin/env node
/**
 * pgwarden command line: serve, demo, check, token, audit, approvals, revert.
 * Argument parsing uses node:util parseArgs (built in, strict: unknown flags are errors).
 * Output for humans goes to stdout except under `serve --transport stdio`, where stdout is the
 * MCP channel and everything else goes to stderr.
 */
import './boot.js'; // first: the compile cache before any other module is loaded
import { parseArgs } from 'node:util';
// the version only: --version and --help must not load the gateway (issue #13, start-up)
import { VERSION } from '../core/version.js';

const HELP = `pgwarden ${VERSION} — a SafeGuard gateway between AI agents and PostgreSQL

Usage:
  pgwarden serve [--config FILE] [--transport http|stdio] [--host H] [--port P] [--principal NAME] [--dry-run]
  pgwarden demo  [--port P] [--data-dir DIR] [--keep]
  pgwarden check --principal NAME [--config FILE] [--database DB] [--tool query|explain|execute] [--json] "SQL"
  pgwarden token [--principal NAME]
  pgwarden audit verify FILE... [--key-file PATH]... [--allow-unkeyed-prefix] [--json] [--no-strict]
  pgwarden audit stats FILE... [--json]
  pgwarden approvals list [--status S] [--database DB] [--principal P] [--json] [--config FILE]
  pgwarden approvals show|approve|reject ID [--operator NAME] [--reason TEXT] [--config FILE]
  pgwarden revert UNDO_ID [--operator NAME] [--config FILE]

serve     run the gateway (HTTP on 127.0.0.1:8420 by default, or MCP over stdio)
          --dry-run prints the resolved configuration with secrets replaced by *** and exits
demo      start an embedded PostgreSQL with a seeded shop database and serve it (Ctrl-C stops all)
check     print the guard's decision for a statement without running it (exit 0 allow, 2 refuse)
token     generate a bearer token and print it with its sha256 digest and a config snippet
audit     verify the audit log hash chain (keyed: --key-file or PGWARDEN_AUDIT_KEY[_FILE]), or summarize it
approvals list, inspect, approve (re-checked, executed with undo, exactly once) or reject held writes
revert    undo a recorded write by its undo id (conflict-checked, at most once)

Environment: DATABASE_URL, PGWARDEN_TOKEN (and *_FILE variants), PGWARDEN_CONFIG, PGWARDEN_HOST,
PGWARDEN_PORT, PGWARDEN_TRANSPORT, PGWARDEN_LOG_LEVEL. See docs/configuration.md.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${HELP}\n`);
      return 0;
    case '-v':
    case '--version':
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case 'serve': {
      const { values } = parseArgs({
        args: rest,
        options: {
          config: { type: 'string', short: 'c' },
          transport: { type: 'string' },
          host: { type: 'string' },
          port: { type: 'string' },
          principal: { type: 'string' },
          'dry-run': { type: 'boolean' },
        },
        strict: true,
      });
      const { serveCommand } = await import('./serve.js');
      return serveCommand({
        config: values.config ?? process.env.PGWARDEN_CONFIG,
        transport: values.transport,
        host: values.host,
        port: values.port,
        principal: values.principal,
        dryRun: values['dry-run'] === true,
      });
    }
    case 'demo': {
      const { values } = parseArgs({
        args: rest,
        options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, keep: { type: 'boolean' } },
        strict: true,
      });
      const { demoCommand } = await import('./demo.js');
      return demoCommand({ port: values.port, dataDir: values['data-dir'], keep: values.keep === true });
    }
    case 'check': {
      const { values, positionals } = parseArgs({
        args: rest,
        options: {
          config: { type: 'string', short: 'c' },
          principal: { type: 'string', short: 'p' },
          database: { type: 'string', short: 'd' },
          tool: { type: 'string' },
          json: { type: 'boolean' },
        },
        allowPositionals: true,
        strict: true,
      });
      const { checkCommand } = await import('./check.js');
      return checkCommand({
        config: values.config ?? process.env.PGWARDEN_CONFIG,
        principal: values.principal,
        database: values.database,
        tool: values.tool,
        json: values.json === true,
        sql: positionals.join(' '),
      });
    }
    case 'token': {
      const { values } = parseArgs({ args: rest, options: { principal: { type: 'string' } }, strict: true });
      const { tokenCommandOutput } = await import('../auth/tokens.js');
      process.stdout.write(`${tokenCommandOutput({ principal: values.principal ?? 'agent' })}\n`);
      return 0;
    }
    case 'audit': {
      const { auditCli } = await import('./audit-entry.js');
      return auditCli(rest);
    }
    case 'approvals': {
      const { approvalsCommand } = await import('./approvals.js');
      return approvalsCommand(rest);
    }
    case 'revert': {
      const { revertCommand } = await import('./revert.js');
      return revertCommand(rest);
    }
    default:
      process.stderr.write(`pgwarden: unknown command "${command}"\n\n${HELP}\n`);
      return 64;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry || process.argv[1]?.endsWith('/pgwarden') || process.argv[1]?.endsWith('main.ts') || process.argv[1]?.endsWith('main.js')) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`pgwarden: ${message}\n`);
      process.exitCode = 1;
    },
  );
}
