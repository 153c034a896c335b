/**
 * Name helpers: splitting the text of a regclass/regproc literal into a qualified name the way
 * PostgreSQL does (stringToQualifiedNameList / SplitIdentifierString), and reading name lists
 * from parse nodes.
 *
 * Guarantees: unquoted parts are lower-cased (ASCII, as PostgreSQL's downcase_identifier does
 * for UTF-8 databases), quoted parts keep their case with "" unescaped; malformed text returns
 * undefined (callers fail closed). Does not: resolve anything against a catalog.
 */

/**
 * Split `schema.name`, `"Schema"."Name"`, `name(argtypes)` into its name parts. For regprocedure
 * and regoperator text, everything from the first unquoted '(' is ignored.
 */
export function splitQualifiedName(text: string): string[] | undefined {
  const parts: string[] = [];
  let i = 0;
  const n = text.length;
  const skipWs = (): void => {
    while (i < n && /\s/.test(text[i] as string)) i++;
  };
  skipWs();
  for (;;) {
    let part = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) return undefined;
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += text[i];
        i++;
      }
      if (part === '') return undefined;
    } else {
      const start = i;
      while (i < n && text[i] !== '.' && text[i] !== '(' && !/\s/.test(text[i] as string)) i++;
      part = text.slice(start, i).replace(/[A-Z]/g, (c) => c.toLowerCase());
      if (part === '') return undefined;
    }
    parts.push(part);
    skipWs();
    if (i >= n || text[i] === '(') break;
    if (text[i] !== '.') return undefined;
    i++;
    skipWs();
  }
  return parts.length >= 1 && parts.length <= 3 ? parts : undefined;
}

/** Operator text for regoper/regoperator: `schema.op` or `op(types)`. */
export function splitOperatorName(text: string): string[] | undefined {
  const t = text.trim().replace(/\(.*$/s, '').trim();
  if (t === '') return undefined;
  const dot = t.lastIndexOf('.');
  // operators may contain '.'? They may not (PostgreSQL operator characters exclude '.').
  if (dot === -1) return [t];
  const schema = splitQualifiedName(t.slice(0, dot));
  if (!schema || schema.length !== 1) return undefined;
  return [schema[0] as string, t.slice(dot + 1)];
}

/** The sval of each String node in a name list ([{String:{sval}}]). Undefined when any part is not a String. */
export function nameList(list: unknown): string[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const out: string[] = [];
  for (const item of list) {
    const s = (item as { String?: { sval?: string } } | null)?.String;
    if (!s) return undefined;
    out.push(s.sval ?? '');
  }
  return out;
}

/** Quote an identifier for messages only when needed. */
export function displayIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function displayQualified(schema: string, name: string): string {
  return `${displayIdent(schema)}.${displayIdent(name)}`;
}
