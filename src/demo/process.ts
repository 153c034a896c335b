/**
 * Process plumbing shared by the throwaway Postgres launchers (embedded.ts).
 *
 * Guarantees: a free loopback port can be picked; a cluster started through these helpers is
 * shut down when this Node process exits normally (exit handler) and, through a detached
 * watchdog, also when it is killed (SIGKILL, crash): the watchdog notices the parent is gone,
 * fast-stops the postmaster and removes a throwaway data directory.
 * Does not: protect against the machine itself going down, or clean up clusters started by
 * other tools.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';

/** Ask the kernel for a free TCP port on 127.0.0.1 (listen on 0, read it, close). */
export async function findFreePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

export interface RunAs {
  uid: number;
  gid: number;
}

/**
 * Postgres refuses to run as root. When we are root, return the uid/gid of the OS user
 * `postgres`, creating it (a system user without a home or login shell) when it does not exist;
 * otherwise undefined (run as ourselves).
 */
export function postgresRunAs(): RunAs | undefined {
  if (userInfo().uid !== 0) return undefined;
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore' });
    } catch {
      // Reported below with instructions.
    }
  }
  try {
    const uid = Number.parseInt(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim(), 10);
    const gid = Number.parseInt(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim(), 10);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('unparsable id output');
    return { uid, gid };
  } catch {
    throw new Error(
      'Running as root: PostgreSQL refuses to run as root and there is no OS user "postgres" to run it as. ' +
        'Create one (useradd --system postgres) or run as an unprivileged user.',
    );
  }
}

/** Postmaster pids that this process started and has not stopped yet. */
const livePostmasters = new Set<number>();
let exitHandlerInstalled = false;

/** Remember a postmaster so it is fast-stopped (SIGINT) if this process exits without stopping it. */
export function trackPostmaster(pid: number): void {
  livePostmasters.add(pid);
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.once('exit', () => {
      for (const p of livePostmasters) {
        try {
          process.kill(p, 'SIGINT');
        } catch {
          // already gone
        }
      }
    });
  }
}

export function untrackPostmaster(pid: number): void {
  livePostmasters.delete(pid);
}

const WATCHDOG_SCRIPT = `
parent="$1"; pm="$2"; dir="$3"
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
kill -INT "$pm" 2>/dev/null
i=0
while kill -0 "$pm" 2>/dev/null && [ "$i" -lt 40 ]; do sleep 0.25; i=$((i+1)); done
kill -QUIT "$pm" 2>/dev/null
if [ -n "$dir" ]; then rm -rf -- "$dir"; fi
`;

export interface Watchdog {
  stop(): void;
}

/**
 * Start a detached watchdog (a tiny sh loop) that stops `postmasterPid` and removes
 * `removeDir` (if given) once this Node process no longer exists.
 */
export function startWatchdog(postmasterPid: number, removeDir: string | undefined): Watchdog {
  const child = spawn('sh', ['-c', WATCHDOG_SCRIPT, 'pgwarden-pg-watchdog', String(process.pid), String(postmasterPid), removeDir ?? ''], {
    detached: true,
    stdio: 'ignore',
  });
  child.on('error', () => undefined);
  child.unref();
  return {
    stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          child.kill('SIGTERM');
        } catch {
          // already gone
        }
      }
    },
  };
}

/** A bounded buffer of the last log lines of a server, for error messages. */
export class LogTail {
  private readonly lines: string[] = [];
  constructor(private readonly max = 60) {}
  push(chunk: string): void {
    for (const line of chunk.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
    }
  }
  text(): string {
    return this.lines.join('\n');
  }
  includes(needle: string): boolean {
    return this.lines.some((l) => l.includes(needle));
  }
}
