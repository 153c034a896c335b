/**
 * `mkdir -p` for the audit file's directory, without Node's `mkdir({ recursive: true })`: that one
 * never returns when a parent exists but cannot hold the child — procfs answers ENOENT to a
 * mkdir under /proc, as does a dangling symlink, and Node's walk then steps back to the existing
 * parent (EEXIST) and forward again forever, one core at 100 % (Node 20 and 24; an audit path such
 * as /proc/x/audit.ndjson hung `pgwarden serve` at start).
 *
 * Guarantees: at most one stat per path component and one mkdir per missing component, so it
 * always ends; the first error is final and carries its own code (ENOENT, EACCES, ENOTDIR when
 * a component is not a directory, EROFS …). Does not: set modes or follow anything but what
 * stat follows.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

function notDirectory(path: string): Error {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: 'ENOTDIR', syscall: 'mkdir', path });
}

/** Whether `path` is a directory (false: it does not exist); throws ENOTDIR for anything else there. */
async function isDirectory(path: string): Promise<boolean> {
  try {
    if ((await stat(path)).isDirectory()) return true;
    throw notDirectory(path);
  } catch (err) {
    if (code(err) === 'ENOENT') return false;
    throw err;
  }
}

/** Create `dir` and its missing parents. */
export async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let current = resolve(dir); !(await isDirectory(current)); ) {
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const path of missing.reverse()) {
    try {
      await mkdir(path);
    } catch (err) {
      // created meanwhile by another process is fine; a symlink or file in the way is not
      if (code(err) !== 'EEXIST' || !(await isDirectory(path))) throw code(err) === 'EEXIST' ? notDirectory(path) : err;
    }
  }
}
