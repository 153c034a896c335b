/**
 * Read-only walks over the zod config schema: which keys exist at a YAML path, and the list
 * of every documented key path. Used for `X_file` secret references (only where `X` is a real
 * key), "did you mean" hints on unknown keys, and the test that keeps docs/configuration.md
 * complete.
 *
 * Relies on zod 4's `_zod.def` structure (documented for library authors); a node type this
 * walker does not know is treated as a leaf.
 */
import type { z } from 'zod';
import { configSchema } from './schema.js';

type AnySchema = z.core.$ZodType;
type Segment = string | number;

interface DefLike {
  type: string;
  innerType?: AnySchema;
  shape?: Record<string, AnySchema>;
  valueType?: AnySchema;
  element?: AnySchema;
  in?: AnySchema;
  options?: AnySchema[];
}

function def(s: AnySchema): DefLike {
  return s._zod.def as unknown as DefLike;
}

/** Strip optional/default/prefault/nullable/pipe wrappers. */
export function unwrapSchema(s: AnySchema): AnySchema {
  let cur = s;
  for (let i = 0; i < 16; i++) {
    const d = def(cur);
    if (d.innerType && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type)) {
      cur = d.innerType;
    } else if (d.type === 'pipe' && d.in) {
      cur = d.in;
    } else {
      return cur;
    }
  }
  return cur;
}

/** The schema node at a path (object keys, record entries, array items), or undefined. */
export function schemaAt(path: readonly Segment[], root: AnySchema = configSchema): AnySchema | undefined {
  let cur: AnySchema | undefined = unwrapSchema(root);
  for (const seg of path) {
    if (!cur) return undefined;
    const d = def(cur);
    if (d.type === 'object' && d.shape && typeof seg === 'string') {
      const next: AnySchema | undefined = Object.hasOwn(d.shape, seg) ? d.shape[seg] : undefined;
      cur = next ? unwrapSchema(next) : undefined;
    } else if (d.type === 'record' && d.valueType) {
      cur = unwrapSchema(d.valueType);
    } else if (d.type === 'array' && d.element) {
      cur = unwrapSchema(d.element);
    } else {
      return undefined;
    }
  }
  return cur;
}

/** Keys of the object schema at `path`, or undefined when the node there is not an object (e.g. a record of names). */
export function objectKeysAt(path: readonly Segment[]): string[] | undefined {
  const node = schemaAt(path);
  if (!node) return undefined;
  const d = def(node);
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : undefined;
}

/**
 * Every key path in the schema, with `<name>` for record entries and `[]` for array items,
 * e.g. `databases.<name>.pool.max`, `principals.<name>.tokens[].sha256`.
 */
export function allKeyPaths(root: AnySchema = configSchema): string[] {
  const out: string[] = [];
  const walk = (s: AnySchema, prefix: string): void => {
    const node = unwrapSchema(s);
    const d = def(node);
    if (d.type === 'object' && d.shape) {
      for (const [k, v] of Object.entries(d.shape)) {
        const p = prefix ? `${prefix}.${k}` : k;
        out.push(p);
        walk(v, p);
      }
    } else if (d.type === 'record' && d.valueType) {
      walk(d.valueType, `${prefix}.<name>`);
    } else if (d.type === 'array' && d.element) {
      const el = unwrapSchema(d.element);
      if (def(el).type === 'object') walk(el, `${prefix}[]`);
    }
  };
  walk(root, '');
  return out;
}

/** Format a path the way an operator reads YAML: `databases.main.pool.max`, `principals.a.tokens[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out ? `.${s}` : s;
      else out += `[${JSON.stringify(s)}]`;
    }
  }
  return out || '(root)';
}

/** The closest known key within edit distance 2, for "did you mean" hints. */
export function closestKey(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = 3;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 3;
}
