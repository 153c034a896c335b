/**
 * One version everywhere: the gateway's VERSION constant (served to MCP clients, in `status`,
 * `--version` and telemetry's service.version), package.json, the MCP registry's server.json and
 * the image tag the example overlay pins must agree, so a release bump cannot miss one of them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../../src/core/gateway.js';

const root = new URL('../../../', import.meta.url);
const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(path, root), 'utf8')) as Record<string, unknown>;

describe('release version', () => {
  it('VERSION, package.json, server.json and the example overlay image tag agree', () => {
    const pkg = json('package.json');
    const server = json('server.json') as { version?: unknown; packages?: { registryType?: string; identifier?: string; version?: unknown }[] };
    expect(pkg.version).toBe(VERSION);
    expect(server.version).toBe(VERSION);
    expect(server.packages?.length).toBeGreaterThan(0);
    for (const p of server.packages ?? []) {
      // npm packages carry a version field; OCI packages carry it in the image reference
      if (p.registryType === 'oci') expect(p.identifier).toMatch(new RegExp(`:${VERSION.replace(/\./g, '\\.')}$`));
      else expect(p.version).toBe(VERSION);
    }
    const overlay = readFileSync(new URL('deploy/overlays/example/kustomization.yaml', root), 'utf8');
    expect(overlay).toContain(`newTag: "${VERSION}"`);
  });
});
