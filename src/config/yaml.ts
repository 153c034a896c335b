/**
 * The YAML parser, imported on demand (`await import('./yaml.js')`) by whoever reads or prints a
 * configuration file: a start from the environment alone never loads it (issue #13, start-up).
 * An ES module with named exports, so that the production bundle (scripts/build-bundle.mjs) can
 * give the CommonJS package its own chunk: a dynamic import of a bundled CommonJS package there
 * would yield only its `default`.
 */
export { LineCounter, parse, parseDocument, stringify } from 'yaml';
