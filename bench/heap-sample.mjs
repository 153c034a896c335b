/* global process */
// Preloaded into a server by bench/http-drive.ts (HEAP=1): SIGUSR2 starts V8's sampling heap
// profiler counting every allocation (also objects the GC already collected; HEAP_LIVE=1: only
// what is still on the heap when it stops — e.g. promoted garbage no major GC has reclaimed yet),
// the next SIGUSR2 writes the profile to $TMPDIR/heap-<pid>.json. Bench tooling only.
import inspector from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const session = new inspector.Session();
session.connect();
let on = false;
process.on('SIGUSR2', () => {
  on = !on;
  if (on) {
    session.post('HeapProfiler.enable', () =>
      session.post('HeapProfiler.startSampling', { samplingInterval: 2048, includeObjectsCollectedByMajorGC: process.env.HEAP_LIVE !== '1', includeObjectsCollectedByMinorGC: process.env.HEAP_LIVE !== '1' }),
    );
    return;
  }
  session.post('HeapProfiler.stopSampling', (err, r) => {
    if (!err) writeFileSync(join(tmpdir(), `heap-${process.pid}.json`), JSON.stringify(r.profile));
  });
});
