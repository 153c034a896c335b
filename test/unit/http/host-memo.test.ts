/** The remembered Host check (issue #13) answers exactly what the SDK's validateHostHeader answers, value by value. */
import { validateHostHeader } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { memoHostCheck } from '../../../src/http/host-check.js';

describe('memoHostCheck', () => {
  const hosts = ['localhost', '127.0.0.1', '[::1]'];
  const values = ['127.0.0.1:8080', 'localhost', 'LOCALHOST:1', '[::1]:9', 'evil.example', 'evil.example:80', '', 'a b', 'localhost@evil', '127.0.0.1.nip.io', undefined];

  it('gives the SDK verdict for each value, first time and remembered', () => {
    const check = memoHostCheck(hosts);
    for (let round = 0; round < 2; round++) {
      for (const v of values) expect(check(v), String(v)).toEqual(validateHostHeader(v, hosts));
    }
  });

  it('stays right when many distinct values overflow the memo', () => {
    const check = memoHostCheck(hosts);
    for (let i = 0; i < 300; i++) {
      const v = i % 3 === 0 ? `127.0.0.1:${i}` : `h${i}.example`;
      expect(check(v), v).toEqual(validateHostHeader(v, hosts));
    }
    for (const v of values) expect(check(v), String(v)).toEqual(validateHostHeader(v, hosts));
  });
});
