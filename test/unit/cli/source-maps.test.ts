/**
 * The bundle ships source maps (scripts/build-bundle.mjs): every file of dist/cli/*.js names its
 * `<file>.map` in a sourceMappingURL comment, the map is there, its src/ sources are files of this
 * checkout (mappings and paths only: no copies of the sources, so the install stays small), and
 * under `--enable-source-maps` Node maps a position of the shipped code back to its src/ line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PGWARDEN_MAIN } from '../../support/cli.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.dirname(PGWARDEN_MAIN);

describe('the bundle ships source maps', () => {
  it('each output names its map, and each map holds mappings to files of this checkout, not their text', () => {
    const outputs = readdirSync(CLI).filter((f) => f.endsWith('.js'));
    expect(outputs).toContain('main.js');
    let mapBytes = 0;
    for (const file of outputs) {
      const code = readFileSync(path.join(CLI, file), 'utf8');
      expect(code.trimEnd().split('\n').at(-1), file).toBe(`//# sourceMappingURL=${file}.map`);
      const map = JSON.parse(readFileSync(path.join(CLI, `${file}.map`), 'utf8')) as { version: number; sources: string[]; mappings: string; sourcesContent?: unknown };
      expect(map.version, file).toBe(3);
      expect(typeof map.mappings, file).toBe('string');
      expect(map.sourcesContent, file).toBeUndefined();
      // pgwarden's own sources are files of this checkout; a package's are named as its own map names them
      for (const source of map.sources) {
        expect(source, file).toMatch(/^\.\.\/\.\.\/(src|node_modules)\//);
        if (source.startsWith('../../src/')) expect(existsSync(path.resolve(CLI, source)), `${file}: ${source}`).toBe(true);
      }
      mapBytes += statSync(path.join(CLI, `${file}.map`)).size;
    }
    // the installed package carries them (check-pack.sh bounds the whole install at 60 MB)
    expect(mapBytes).toBeLessThan(4 * 1024 * 1024);
  });

  it('under --enable-source-maps a position in the shipped main.js maps to its line in src/', () => {
    // a function of src/cli/boot.ts, bundled into main.js
    const code = readFileSync(PGWARDEN_MAIN, 'utf8');
    const at = code.indexOf('function wantsCompileCache(');
    expect(at).toBeGreaterThan(0);
    const line = code.slice(0, at).split('\n').length - 1;
    const column = at - (code.lastIndexOf('\n', at - 1) + 1);
    const srcLine = readFileSync(path.join(ROOT, 'src/cli/boot.ts'), 'utf8').split('\n').findIndex((l) => l.startsWith('export function wantsCompileCache('));
    expect(srcLine).toBeGreaterThan(0);
    // `--version` loads main.js and exits; at exit, ask Node's own source-map support where that position comes from
    const probe = `import { findSourceMap } from 'node:module';
      process.on('exit', () => {
        const map = findSourceMap(${JSON.stringify(pathToFileURL(PGWARDEN_MAIN).href)});
        process.stderr.write('ENTRY ' + JSON.stringify(map?.findEntry(${line}, ${column}) ?? null) + '\\n');
      });`;
    const run = spawnSync(process.execPath, ['--enable-source-maps', '--import', `data:text/javascript,${encodeURIComponent(probe)}`, PGWARDEN_MAIN, '--version'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(run.status, run.stderr).toBe(0);
    const entry = JSON.parse(/ENTRY (.*)/.exec(run.stderr)?.[1] ?? 'null') as { originalSource?: string; originalLine?: number } | null;
    expect(entry?.originalSource).toBe(pathToFileURL(path.join(ROOT, 'src/cli/boot.ts')).href);
    expect(entry?.originalLine).toBe(srcLine);
  });
});
