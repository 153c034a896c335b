/**
 * Cross-reference checks of operator definitions (config `tools`, `resources`, `prompts`):
 * names, databases, grantees and parameter definitions.
 *
 * Guarantees: a predefined tool takes no built-in tool's name; its database exists; every
 * principal and policy it names exists and somebody gets it; each grantee's policy reaches its
 * database; parameter definitions are sound (src/config/tool-parameters.ts). Prompt templates
 * use only declared arguments.
 * Does not: parse or judge the SQL (that needs the parser and the catalog: the runtime does it at
 * start and on reload, see src/app/verify-definitions.ts).
 */
import type { Config } from './schema.js';
import { parameterIssues } from './tool-parameters.js';

const BUILTIN_TOOLS = new Set(['query', 'explain', 'describe', 'check', 'execute', 'revert', 'status']);
/** The built-in prompts (src/mcp/prompts.ts). */
export const BUILTIN_PROMPTS: ReadonlySet<string> = new Set(['explore_database', 'answer_question', 'prepare_write']);

type At = (path: (string | number)[], msg: string) => void;

interface Granted {
  principals: string[];
  policies: string[];
  database?: string;
}

function checkGrantees(config: Config, section: string, name: string, entry: Granted, at: At): void {
  entry.principals.forEach((p, i) => {
    if (!Object.hasOwn(config.principals, p)) at([section, name, 'principals', i], `unknown principal "${p}"`);
  });
  entry.policies.forEach((p, i) => {
    if (!Object.hasOwn(config.policies, p)) at([section, name, 'policies', i], `unknown policy "${p}"`);
  });
  if (entry.principals.length === 0 && entry.policies.length === 0) at([section, name], 'names no principals and no policies: nobody would get it');
  if (entry.database === undefined) return;
  const db = entry.database;
  if (!Object.hasOwn(config.databases, db)) {
    at([section, name, 'database'], `unknown database "${db}"`);
    return;
  }
  for (const [principal, p] of Object.entries(config.principals)) {
    if (!entry.principals.includes(principal) && !entry.policies.includes(p.policy)) continue;
    if (config.policies[p.policy]?.databases[db] === undefined) {
      at([section, name], `principal "${principal}" gets it, but its policy "${p.policy}" does not reach database "${db}"`);
    }
  }
}

const TEMPLATE_VARIABLE = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The `{name}` variables of a URI template, in order. */
export function templateVariables(uri: string): string[] {
  return [...uri.matchAll(TEMPLATE_VARIABLE)].map((m) => m[1] as string);
}

/**
 * Why an operator resource's own URI cannot be served, if it cannot: it must be absolute, in the
 * canonical form clients send back (what WHATWG URL parsing yields, so listing and reading agree),
 * without template braces, and outside the `pgwarden:` scheme (the gateway's own resources).
 */
export function uriProblem(uri: string, template = false): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri)) return 'must be an absolute URI with a scheme, e.g. reports://daily_summary';
  const plain = template ? uri.replace(TEMPLATE_VARIABLE, 'x') : uri;
  if (/[{}]/.test(plain)) return template ? 'template variables are {name} (letters, digits, _)' : 'has {…} but the resource declares no parameters: a template needs `parameters`';
  let href: string;
  try {
    href = new URL(plain).href;
  } catch {
    return 'is not a valid URI';
  }
  if (href !== plain) return `must be written in canonical form: ${href}`;
  if (href.toLowerCase().startsWith('pgwarden:')) return 'the pgwarden: scheme is reserved for the gateway\'s own resources; use another scheme';
  return undefined;
}

function templateIssues(name: string, uri: string | undefined, parameters: Config['resources'][string]['parameters'], at: At): void {
  if (uri === undefined) {
    at(['resources', name, 'uri'], 'a resource with parameters needs a URI template naming them, e.g. orders://order/{id}');
    return;
  }
  const vars = templateVariables(uri);
  const names = parameters.map((p) => p.name);
  for (const v of vars) if (!names.includes(v)) at(['resources', name, 'uri'], `{${v}} is not a declared parameter`);
  if (new Set(vars).size !== vars.length) at(['resources', name, 'uri'], 'names a variable twice');
  parameters.forEach((p, i) => {
    if (!vars.includes(p.name)) at(['resources', name, 'parameters', i], `"${p.name}" does not appear in the URI template`);
    if (p.type !== 'string' && p.type !== 'enum') at(['resources', name, 'parameters', i, 'type'], 'a URI variable is text: use string or enum (cast in the statement, e.g. $1::bigint)');
  });
  for (const issue of parameterIssues({ parameters } as Parameters<typeof parameterIssues>[0])) at(['resources', name, ...issue.path], issue.message);
}

export function validateDefinitions(config: Config, at: At): void {
  for (const [name, tool] of Object.entries(config.tools)) {
    if (BUILTIN_TOOLS.has(name)) at(['tools', name], `"${name}" is a built-in tool; choose another name`);
    checkGrantees(config, 'tools', name, tool, at);
    for (const issue of parameterIssues(tool)) at(['tools', name, ...issue.path], issue.message);
  }
  const uris = new Map<string, string>();
  for (const [name, resource] of Object.entries(config.resources)) {
    if (!/^[a-z0-9_.-]+$/i.test(name)) at(['resources', name], 'must be a name usable in a URI');
    checkGrantees(config, 'resources', name, resource, at);
    const uri = resource.uri ?? `pgwarden://resource/${encodeURIComponent(name)}`;
    const template = resource.parameters.length > 0;
    if (resource.uri !== undefined) {
      const problem = uriProblem(resource.uri, template);
      if (problem !== undefined) at(['resources', name, 'uri'], problem);
    }
    if (template) templateIssues(name, resource.uri, resource.parameters, at);
    const other = uris.get(uri);
    if (other !== undefined) at(['resources', name, 'uri'], `resource "${other}" is already served under this URI`);
    uris.set(uri, name);
  }
  for (const [name, prompt] of Object.entries(config.prompts)) {
    if (BUILTIN_PROMPTS.has(name)) at(['prompts', name], `"${name}" is a built-in prompt; choose another name`);
    checkGrantees(config, 'prompts', name, prompt, at);
    const declared = new Set(prompt.arguments.map((a) => a.name));
    for (const m of prompt.text.matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)) {
      if (!declared.has(m[1] as string)) at(['prompts', name, 'text'], `uses {{${m[1] as string}}}, which is not a declared argument`);
    }
  }
}
