/**
 * The design limits of the write workflow are stated where operators read them (issue #14 item 8):
 * in-client confirmation is answered by the agent's own client, so operator approval is the
 * documented choice where agents are untrusted.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (p: string): string => readFileSync(new URL(`../../../${p}`, import.meta.url), 'utf8').replace(/\s+/g, ' ');

describe('in-client confirmation is documented as answered by the agent\'s client', () => {
  it.each(['docs/writes.md', 'SECURITY.md'])('%s', (file) => {
    const text = read(file);
    expect(text).toMatch(/answered by the agent's own (MCP )?client/);
    expect(text).toMatch(/always says yes/);
    expect(text).toMatch(/not (protect )?the database from a hostile/);
    expect(text).toMatch(/untrusted, (leave|keep) .*(off|false).* operator approval/);
  });
});
