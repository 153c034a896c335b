/**
 * The WebAssembly parser stays on V8's baseline compiler (src/guard/wasm-tiering.ts, issue #10
 * item 1): V8's optimizing recompilation of libpg-query's parser loop took a Node 24 gateway from
 * ≈ 120 MB to ≈ 800 MB for 2–3 s, outside the V8 heap.
 *
 * Two checks: every run-time import of libpg-query in src/ goes through src/guard/pgquery.ts (the
 * module that sets the flags first), and a child process that parses through that door compiles
 * no parser function with the optimizing compiler, while the same child importing libpg-query
 * directly does (so the probe can see a tier-up: the control fails if it cannot).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../../support/imports.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SRC = path.join(ROOT, 'src');
const DOOR = 'guard/pgquery.ts';

/** Whether a module specifier names libpg-query or a file of it ('libpg-query/wasm/…'). */
const isParserSpecifier = (text: string): boolean => text === 'libpg-query' || text.startsWith('libpg-query/');

/**
 * Files under src/ that load libpg-query (or a file of it) at run time: imports that are not
 * type-only, dynamic import() and require() (type-only imports are erased).
 */
function runtimeImportersOfParser(): string[] {
  const found = new Set<string>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(path.join(SRC, file), 'utf8');
    if (!text.includes('libpg-query')) continue;
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && isParserSpecifier(node.moduleSpecifier.text)) {
        const clause = node.importClause;
        const typeOnly =
          clause !== undefined &&
          (clause.isTypeOnly ||
            (clause.name === undefined && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
        if (!typeOnly) found.add(file);
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier) && isParserSpecifier(node.moduleSpecifier.text)) {
        if (!node.isTypeOnly) found.add(file);
      } else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
        const [arg] = node.arguments;
        if (arg !== undefined && ts.isStringLiteralLike(arg) && isParserSpecifier(arg.text)) found.add(file);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return [...found].sort();
}

/** What one child process compiled, from V8's --trace-wasm-compilation-times. */
interface Compilations {
  /** Functions of the parser module (the module holding the largest function) compiled by the optimizing tier. */
  parserOptimized: number;
  parserBaseline: number;
  maxRssMb: number;
}

const PROBE = `
const { loadModule, parseSync } = await import(process.argv[1]);
await loadModule();
for (let round = 0; round < 30; round++) {
  for (let i = 0; i < 20; i++) parseSync('SELECT a, b, count(*) FROM t' + i + ' JOIN u USING (id) WHERE x = ' + i + ' AND y IN (1, 2, 3) GROUP BY 1, 2 ORDER BY 3 DESC');
  await new Promise((r) => setTimeout(r, 10));
}
await new Promise((r) => setTimeout(r, 500));
console.log('MAXRSS ' + process.resourceUsage().maxRSS);
`;

function compilationsThrough(moduleUrl: string): Compilations {
  const loader = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  // A small tiering budget makes V8 tier hot functions up within the probe's first rounds.
  const run = spawnSync(
    process.execPath,
    ['--trace-wasm-compilation-times', '--wasm-tiering-budget=1000', '--import', loader, '--input-type=module', '-e', PROBE, moduleUrl],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
  );
  expect(run.status, run.stderr).toBe(0);
  const lines = [...run.stdout.matchAll(/Compiled function (0x[0-9a-f]+)#\d+ using (\w+)[^\n]*?bodysize (\d+)/g)];
  let parser = '';
  let largest = -1;
  for (const [, module, , size] of lines) {
    if (Number(size) > largest) [parser, largest] = [module as string, Number(size)];
  }
  const ofParser = lines.filter(([, module]) => module === parser);
  return {
    parserOptimized: ofParser.filter(([, , tier]) => tier !== 'Liftoff').length,
    parserBaseline: ofParser.filter(([, , tier]) => tier === 'Liftoff').length,
    maxRssMb: Math.round(Number(/MAXRSS (\d+)/.exec(run.stdout)?.[1] ?? 0) / 1024),
  };
}

describe('the WebAssembly parser stays on the baseline compiler', () => {
  it(`every run-time import of libpg-query in src/ goes through src/${DOOR}`, () => {
    expect(runtimeImportersOfParser()).toEqual([DOOR]);
  });

  it('parsing through the door tiers no parser function up; importing libpg-query directly does', () => {
    const direct = compilationsThrough('libpg-query');
    const door = compilationsThrough(pathToFileURL(path.join(SRC, DOOR)).href);
    console.log(`[wasm tiering] ${process.version}: direct import ${JSON.stringify(direct)}; through ${DOOR} ${JSON.stringify(door)}`);
    expect(direct.parserOptimized, 'control: the probe saw no tier-up at all').toBeGreaterThan(0);
    expect(door.parserBaseline).toBeGreaterThan(0);
    expect(door.parserOptimized).toBe(0);
  }, 120_000);
});
