/**
 * The import graph of src/**, for the layering test (test/unit/architecture.test.ts).
 *
 * Each file is parsed with the TypeScript compiler API (already a pinned dev dependency, so the
 * scan adds nothing to install and reads the exact syntax tsc compiles): static imports and
 * re-exports (`import … from`, `import type … from`, `export … from`) and dynamic `import('…')`
 * with a literal specifier. Only relative specifiers are edges; packages are ignored. Each edge
 * records whether it is type-only (`import type`, or every named binding marked `type`), which
 * vanishes at run time.
 *
 * Why not dependency-cruiser or madge: dependency-cruiser 18 brings 18 direct dependencies
 * (acorn and plugins, enhanced-resolve, webpack path plugins, prompts…) and a rule language of
 * its own; madge needs a separate TypeScript resolver and does not tell type-only edges apart.
 * The rules we enforce are a small table; the scan below is ~80 lines over the compiler we
 * already run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Importing file, relative to the scanned root, with '/' separators (e.g. "core/gateway.ts"). */
  from: string;
  /** Imported file, same form (".js" specifiers mapped to the ".ts" source). */
  to: string;
  /** True when the import is erased at run time (import type / export type / all bindings typed). */
  typeOnly: boolean;
}

/** Every .ts file under `root` (recursively), relative, '/'-separated. */
export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(relative(root, path).split(sep).join('/'));
    }
  };
  walk(root);
  return out.sort();
}

/** The relative-import edges of one file's text (`file` relative to the root). */
export function importsOfText(file: string, text: string): ImportEdge[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const edges: ImportEdge[] = [];
  const add = (specifier: string, typeOnly: boolean): void => {
    if (!specifier.startsWith('.')) return;
    const target = resolve('/', dirname(file), specifier).slice(1).replace(/\.js$/, '.ts');
    edges.push({ from: file, to: target, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, importIsTypeOnly(node));
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) add(arg.text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

function importIsTypeOnly(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false; // side-effect import
  if (clause.isTypeOnly) return true;
  if (clause.name) return false; // default import
  const bindings = clause.namedBindings;
  if (!bindings || ts.isNamespaceImport(bindings)) return false;
  return bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

/** Every relative-import edge of every .ts file under `root`. */
export function importGraph(root: string): ImportEdge[] {
  return sourceFiles(root).flatMap((file) => importsOfText(file, readFileSync(join(root, file), 'utf8')));
}

/** The layer of a file: its top-level directory, or "(root)" for a file directly under the root. */
export function layerOf(file: string): string {
  const i = file.indexOf('/');
  return i < 0 ? '(root)' : file.slice(0, i);
}

/**
 * Cycles among files over run-time edges (type-only edges never load a module). Tarjan's
 * strongly connected components; each component of more than one file (or a file importing
 * itself) is a cycle, returned sorted.
 */
export function fileCycles(edges: readonly ImportEdge[], options: { includeTypeOnly?: boolean } = {}): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (e.typeOnly && !options.includeTypeOnly) continue;
    const list = next.get(e.from) ?? [];
    list.push(e.to);
    next.set(e.from, list);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const strong = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (next.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) strong(v);
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** Which layers each layer may import ('*': any). A layer may always import itself. */
export type LayerRules = Readonly<Record<string, readonly string[]>>;

/**
 * Edges that break the layer rules, as "from -> to" file pairs (sorted, unique). A layer missing
 * from the rules may import nothing outside itself (a new top-level directory must be placed).
 */
export function layerViolations(edges: readonly ImportEdge[], rules: LayerRules): string[] {
  const out = new Set<string>();
  for (const e of edges) {
    const from = layerOf(e.from);
    const to = layerOf(e.to);
    if (from === to) continue;
    const allowed = rules[from] ?? [];
    if (allowed.includes('*') || allowed.includes(to)) continue;
    out.add(`${e.from} -> ${e.to}`);
  }
  return [...out].sort();
}
