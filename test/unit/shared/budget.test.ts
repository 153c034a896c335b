/** ResultBudget (gateway-wide result bytes) and WireMeter (protocol framing), without a database. */
import { describe, expect, it } from 'vitest';
import { FLOOR_BYTES, ResultBudget } from '../../../src/shared/budget.js';
import { WireMeter } from '../../../src/db/wire-meter.js';

const MB = 1024 * 1024;

describe('ResultBudget', () => {
  it('grants within capacity, always grants a lease its first FLOOR_BYTES, and refuses past capacity', () => {
    const b = new ResultBudget({ capacity: 2 * MB, waitMs: 50 });
    const a = b.lease();
    expect(a.charge(2 * MB)).toBe(true);
    const small = b.lease();
    expect(small.charge(FLOOR_BYTES)).toBe(true); // over capacity, but within the floor
    const big = b.lease();
    expect(big.charge(FLOOR_BYTES + 1)).toBe(false);
    a.release();
    small.release();
    expect(b.used).toBe(0);
  });

  it('a waiting lease is granted when another releases, first come first served', async () => {
    const b = new ResultBudget({ capacity: 2 * MB, waitMs: 2_000 });
    const a = b.lease();
    a.charge(2 * MB);
    const w1 = b.lease();
    const w2 = b.lease();
    expect(w1.charge(MB + 1)).toBe(false);
    expect(w2.charge(MB + 1)).toBe(false);
    const p1 = w1.wait();
    const p2 = w2.wait();
    a.release();
    expect(await p1).toBe(true);
    expect(w1.held).toBe(MB + 1);
    // w2 does not fit next to w1 (2 MB capacity): it waits for w1.
    w1.release();
    expect(await p2).toBe(true);
    w2.release();
    expect(b.used).toBe(0);
  });

  it('a wait times out (refused) and counts the refusal; release is idempotent', async () => {
    const b = new ResultBudget({ capacity: MB, waitMs: 30 });
    const a = b.lease();
    a.charge(MB);
    const w = b.lease();
    expect(w.charge(MB)).toBe(false);
    expect(await w.wait()).toBe(false);
    expect(b.refused).toBe(1);
    w.release();
    a.release();
    a.release();
    expect(b.used).toBe(0);
  });

  it('a scope keeps its leases until end()', () => {
    const b = new ResultBudget({ capacity: MB, waitMs: 30 });
    const scope = b.scope();
    const lease = b.lease(scope);
    lease.charge(1000);
    lease.releaseUnlessScoped();
    expect(b.used).toBe(1000);
    scope.end();
    expect(b.used).toBe(0);
    const outside = b.lease();
    outside.charge(10);
    outside.releaseUnlessScoped();
    expect(b.used).toBe(0);
  });
});

function message(type: string, body: number): Buffer {
  const b = Buffer.alloc(5 + body, 0x61);
  b.write(type, 0, 'latin1');
  b.writeInt32BE(4 + body, 1);
  return b;
}

describe('WireMeter', () => {
  it('reports each message header once, across any chunking, without the bodies', () => {
    const stream = Buffer.concat([message('T', 30), message('D', 1000), message('D', 3), message('C', 10), message('Z', 1)]);
    for (const size of [1, 2, 3, 5, 7, 64, stream.length]) {
      const seen: string[] = [];
      const meter = new WireMeter((type, length) => {
        seen.push(`${String.fromCharCode(type)}${length}`);
        return true;
      });
      for (let i = 0; i < stream.length; i += size) meter.feed(stream.subarray(i, i + size));
      expect(seen).toEqual(['T34', 'D1004', 'D7', 'C14', 'Z5']);
    }
  });

  it('stops when told to, and on a length that is no protocol message', () => {
    const seen: number[] = [];
    const meter = new WireMeter((_t, length) => {
      seen.push(length);
      return seen.length < 2;
    });
    meter.feed(Buffer.concat([message('D', 1), message('D', 2), message('D', 3)]));
    expect(seen).toEqual([5, 6]);
    expect(meter.stopped).toBe(true);
    const bad = new WireMeter(() => true);
    const garbage = Buffer.from([0x44, 0, 0, 0, 1]);
    bad.feed(garbage);
    expect(bad.stopped).toBe(true);
  });
});
