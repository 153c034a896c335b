/**
 * Docs as tests, the lint half (no database): every fenced block of README.md and docs/*.md names
 * its language, and every shell or YAML block says how CI checks it (run, serve, config,
 * config-fragment) or why it cannot (skip with a reason). The run half is
 * test/integration/docs/docs-run.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { annotationProblems, documentedBlocks, needsAnnotation, parseDocBlocks } from '../../support/doc-blocks.js';

describe('documented commands and snippets', () => {
  const blocks = documentedBlocks(process.cwd());

  it('every fence names a language and every shell/YAML block is annotated', () => {
    expect(blocks.flatMap(annotationProblems)).toEqual([]);
  });

  it('counts: every shell and YAML block is run, loaded, or skipped with a reason', () => {
    const counted = blocks.filter(needsAnnotation);
    const by = (m: string): number => counted.filter((b) => b.mode === m).length;
    const summary = { blocks: counted.length, run: by('run'), serve: by('serve'), config: by('config') + by('config-fragment'), skip: by('skip') };
    console.info(`docs as tests: ${JSON.stringify(summary)}`);
    expect(summary.run + summary.serve + summary.config + summary.skip).toBe(summary.blocks);
    expect(summary.run + summary.serve + summary.config).toBeGreaterThan(summary.skip);
  });
});

describe('parseDocBlocks', () => {
  it('reads annotations, options and indented fences', () => {
    const md = [
      '<!-- doc-test: run exit=2 expect="no such" -->',
      '```sh',
      'pgwarden nope',
      '```',
      '- item:',
      '  <!-- doc-test: skip reason="needs a Docker engine" -->',
      '  ```sh',
      '  docker compose up',
      '  ```',
      '```',
      'bare',
      '```',
      '<!-- doc-test: walk -->',
      '```yaml',
      'a: 1',
      '```',
    ].join('\n');
    const blocks = parseDocBlocks('x.md', md);
    expect(blocks.map((b) => [b.line, b.lang, b.mode, b.text])).toEqual([
      [2, 'sh', 'run', 'pgwarden nope'],
      [7, 'sh', 'skip', 'docker compose up'],
      [10, '', undefined, 'bare'],
      [14, 'yaml', undefined, 'a: 1'],
    ]);
    expect(blocks[0]?.options).toEqual({ exit: '2', expect: 'no such' });
    expect(blocks[1]?.options.reason).toBe('needs a Docker engine');
    expect(blocks.flatMap(annotationProblems)).toEqual([
      'x.md:10: a fence without a language; name it (sh, yaml, json, sql, text …)',
      'x.md:14: unknown doc-test mode "walk" (use run, serve, config, config-fragment, skip)',
      'x.md:14: a yaml block without <!-- doc-test: run|serve|config|config-fragment|skip … --> on the line before it',
    ]);
  });
});
