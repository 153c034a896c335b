/**
 * The fenced blocks of README.md and docs/*.md, with the `doc-test` annotation each carries.
 *
 * Every fence must name a language. Every shell block (sh, bash, shell, console) and every YAML
 * block must be annotated on the line right before its opening fence:
 *
 *   <!-- doc-test: run -->                       run as one bash script (set -euo pipefail); exit 0
 *   <!-- doc-test: run exit=1 expect="regex" --> other exit code; combined output must match
 *   <!-- doc-test: run keep="DATABASE_URL" -->  the runner's own value of these variables wins:
 *                                                `export NAME=…` lines for them are not run
 *   <!-- doc-test: serve ready="regex" -->       each line is a long-running command (after the
 *                                                block's `export` lines): start it, wait for the
 *                                                regex on its output, SIGTERM, gone within 30 s
 *   <!-- doc-test: config -->                    a whole config file, loaded with the real loader
 *   <!-- doc-test: config-fragment -->           part of a config, merged onto a minimal valid one
 *                                                (databases main and shop, principal and policy
 *                                                analyst); at="policies.analyst.databases.main"
 *                                                places a snippet that is the value of that key
 *   <!-- doc-test: skip reason="needs a Docker engine" -->   not runnable here, and why
 *
 * Other languages (json, sql, text, ts …) are illustrations and need no annotation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type DocMode = 'run' | 'serve' | 'config' | 'config-fragment' | 'skip';
export const DOC_MODES: readonly DocMode[] = ['run', 'serve', 'config', 'config-fragment', 'skip'];
export const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console']);
export const YAML_LANGS = new Set(['yaml', 'yml']);

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  text: string;
  mode?: DocMode | undefined;
  /** key=value options of the annotation. */
  options: Record<string, string>;
  /** Problems with the block's annotation (unknown mode, malformed options). */
  problems: string[];
}

const ANNOTATION_RE = /^\s*<!--\s*doc-test:\s*([a-z-]+)((?:\s+[a-z]+=(?:"[^"]*"|\S+))*)\s*-->\s*$/;

export function needsAnnotation(block: Pick<DocBlock, 'lang'>): boolean {
  return SHELL_LANGS.has(block.lang) || YAML_LANGS.has(block.lang);
}

/** Parse one markdown text into its fenced blocks (``` or ~~~ fences, any indentation). */
export function parseDocBlocks(file: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i] as string);
    if (!open) continue;
    const fence = open[2] as string;
    const indent = (open[1] as string).length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j] as string;
      if (l.trimStart().startsWith(fence) && l.trim().replace(/[`~]/g, '') === '') break;
      body.push(l.slice(Math.min(indent, l.length - l.trimStart().length)));
    }
    const block: DocBlock = { file, line: i + 1, lang: (open[3] as string).toLowerCase(), text: body.join('\n'), options: {}, problems: [] };
    const prev = i > 0 ? (lines[i - 1] as string) : '';
    const ann = ANNOTATION_RE.exec(prev);
    if (ann) {
      const mode = ann[1] as string;
      if ((DOC_MODES as readonly string[]).includes(mode)) block.mode = mode as DocMode;
      else block.problems.push(`unknown doc-test mode "${mode}" (use ${DOC_MODES.join(', ')})`);
      for (const m of (ann[2] ?? '').matchAll(/([a-z]+)=("([^"]*)"|\S+)/g)) block.options[m[1] as string] = m[3] ?? (m[2] as string);
    } else if (/doc-test/.test(prev)) {
      block.problems.push('malformed doc-test annotation (expected <!-- doc-test: MODE key="value" -->)');
    }
    blocks.push(block);
    i = j;
  }
  return blocks;
}

/** README.md and every docs/*.md of the repository at `root`. */
export function documentedBlocks(root: string): DocBlock[] {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  return files.flatMap((f) => parseDocBlocks(f, readFileSync(join(root, f), 'utf8')));
}

/** What is wrong with a block's annotation, for the lint test (empty: fine). */
export function annotationProblems(block: DocBlock): string[] {
  const where = `${block.file}:${block.line}`;
  const out = block.problems.map((p) => `${where}: ${p}`);
  if (block.lang === '') out.push(`${where}: a fence without a language; name it (sh, yaml, json, sql, text …)`);
  if (needsAnnotation(block) && block.mode === undefined) {
    out.push(`${where}: a ${block.lang} block without <!-- doc-test: run|serve|config|config-fragment|skip … --> on the line before it`);
  }
  if (block.mode === 'skip' && (block.options.reason ?? '').trim().length < 8) out.push(`${where}: doc-test skip needs reason="why it cannot run in CI"`);
  if ((block.mode === 'config' || block.mode === 'config-fragment') && !YAML_LANGS.has(block.lang)) out.push(`${where}: doc-test ${block.mode} on a ${block.lang} block`);
  if ((block.mode === 'run' || block.mode === 'serve') && !SHELL_LANGS.has(block.lang)) out.push(`${where}: doc-test ${block.mode} on a ${block.lang} block`);
  if (block.options.exit !== undefined && !/^\d{1,3}$/.test(block.options.exit)) out.push(`${where}: exit= must be a number`);
  for (const key of ['expect', 'ready']) {
    const re = block.options[key];
    if (re === undefined) continue;
    try {
      new RegExp(re);
    } catch {
      out.push(`${where}: ${key}= is not a valid regular expression`);
    }
  }
  return out;
}
