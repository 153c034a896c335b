/**
 * Opt-in CPU profiling of the server process during measured windows (BENCH_PROFILE=<dir>):
 * the V8 profiler is started when a scenario's warm-up ends and stopped when its loops end, the
 * .cpuprofile is written to <dir> (open it in Chrome DevTools or speedscope), and a summary of
 * self time per call, grouped by package / source directory, is printed.
 *
 * Note: the sampling profiler measures wall time while the thread is not idle; on a machine
 * where other processes compete for the CPUs, a thread preempted inside a syscall (socket
 * writes) shows that time as the syscall's.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Session, type Profiler, type Runtime } from 'node:inspector';

let session: Session | undefined;

function post<T>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    (session as Session).post(method, params ?? {}, (err: Error | null, result?: unknown) => (err ? reject(err) : resolve(result as T)));
  });
}

export function startProfile(): void {
  if (session === undefined) {
    session = new Session();
    session.connect();
  }
  void post('Profiler.enable')
    .then(() => post('Profiler.setSamplingInterval', { interval: 200 }))
    .then(() => post('Profiler.start'));
}

export async function stopProfile(): Promise<Profiler.Profile> {
  const { profile } = await post<{ profile: Profiler.Profile }>('Profiler.stop');
  return profile;
}

export async function saveProfile(dir: string, name: string, profile: Profiler.Profile): Promise<string> {
  const file = join(dir, `${name.replace(/[^A-Za-z0-9_.-]+/g, '_')}.cpuprofile`);
  await writeFile(file, JSON.stringify(profile));
  return file;
}

/** What a sample's frame belongs to: an npm package, a directory of ours, a Node internal, or a native bucket. */
export function category(frame: Runtime.CallFrame): string {
  const url = frame.url;
  if (url === '') return frame.functionName === '' ? '(native)' : `(${frame.functionName.replace(/^\(|\)$/g, '')})`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return (parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? '?')) + '';
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] ?? ''}`;
  const m = /\/(src|dist|bench)\/([^/]+)(\/|$)/.exec(url);
  if (m !== null) return m[1] !== 'bench' && m[3] === '/' ? `src/${m[2] ?? ''}` : `${m[1] === 'dist' ? 'src' : (m[1] ?? '')}/${m[2] ?? ''}`;
  if (url.startsWith('wasm://')) return 'wasm (libpg-query)';
  return url;
}

export interface ProfileBucket {
  category: string;
  usPerCall: number;
  share: number;
}

/** Self time per call by category, idle excluded, largest first. */
export function summarizeProfile(profile: Profiler.Profile, calls: number, top = 14): { busyUsPerCall: number; buckets: ProfileBucket[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let busy = 0;
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i] as number);
    const dt = deltas[i] ?? 0;
    if (node === undefined || node.callFrame.functionName === '(idle)') continue;
    const c = category(node.callFrame);
    totals.set(c, (totals.get(c) ?? 0) + dt);
    busy += dt;
  }
  const buckets = [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([c, us]) => ({ category: c, usPerCall: calls > 0 ? us / calls : Number.NaN, share: busy > 0 ? us / busy : 0 }));
  return { busyUsPerCall: calls > 0 ? busy / calls : Number.NaN, buckets };
}
