/**
 * The bundle's SBOM (dist/cli/sbom.cdx.json, scripts/build-bundle.mjs): the packages whose code is
 * bundled into dist/cli run as those copies — `npm audit fix` or an override in an install does not
 * patch them — so the SBOM must name every one of them, at the version package-lock.json pins, and
 * nothing that is not bundled. The bundle is built by the global setup (test/support/bundle-setup.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const readJson = <T>(file: string): T => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8')) as T;

interface Component {
  'bom-ref': string;
  name: string;
  version: string;
  purl: string;
  properties: { name: string; value: string }[];
}
const bom = readJson<{ bomFormat: string; specVersion: string; components: Component[]; dependencies: { ref: string; dependsOn: string[] }[] }>('dist/cli/sbom.cdx.json');
const meta = readJson<{ inputs: Record<string, unknown> }>('dist/bundle-meta.json');
const lock = readJson<{ packages: Record<string, { version?: string; name?: string }> }>('package-lock.json');

/** The package folders the bundle holds code of, from esbuild's metafile (innermost node_modules). */
function bundledDirs(): string[] {
  const dirs = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m?.[1] !== undefined) dirs.add(m[1]);
  }
  return [...dirs].sort();
}

/** A package's name from its package-lock.json path (node_modules/a/node_modules/@s/b → @s/b). */
const nameOf = (dir: string): string => /node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(dir)?.[1] ?? '';

describe('the bundle SBOM', () => {
  it('is CycloneDX and lists exactly the bundled packages', () => {
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.specVersion).toBe('1.5');
    const dirs = bundledDirs();
    // the HTTP server and the MCP SDK are among them (the review finding this answers)
    for (const name of ['fastify', '@modelcontextprotocol/server', 'zod', 'pino', 'yaml']) expect(dirs.map(nameOf)).toContain(name);
    expect(bom.components.map((c) => c['bom-ref']).sort()).toEqual(dirs);
    expect(bom.dependencies[0]?.dependsOn.slice().sort()).toEqual(dirs);
  });

  it('names each bundled package at the version package-lock.json pins, with its purl', () => {
    for (const c of bom.components) {
      const locked = lock.packages[c['bom-ref']];
      expect(locked, c['bom-ref']).toBeDefined();
      expect({ dir: c['bom-ref'], name: c.name, version: c.version }).toEqual({ dir: c['bom-ref'], name: locked?.name ?? nameOf(c['bom-ref']), version: locked?.version });
      expect(c.purl).toBe(`pkg:npm/${c.name.replace(/^@/, '%40')}@${c.version}`);
      expect(c.properties).toContainEqual({ name: 'pgwarden:package-lock-path', value: c['bom-ref'] });
    }
  });

  it('lists no package the bundle loads from node_modules (those npm audit sees)', () => {
    const names = bom.components.map((c) => c.name);
    for (const external of ['pg', 'pg-cursor', 'libpg-query', 'pgsql-deparser', '@fastify/rate-limit']) expect(names).not.toContain(external);
  });
});
