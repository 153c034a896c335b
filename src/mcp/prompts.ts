/**
 * MCP prompts: a few built-ins that make agents use the gateway well, and operator-defined ones
 * (config `prompts`).
 *
 * Guarantees: a built-in prompt is offered only when the principal has the tools it tells the agent
 * to use (explore_database: describe; answer_question: query and check; prepare_write: execute and
 * check); an operator prompt only to its grantees. Completions offer the principal's databases and
 * an argument's configured `values`, nothing else. Prompts run nothing: they are text.
 * Does not: enforce anything (the tools the text names are judged when the agent calls them).
 */
import { completable, type GetPromptResult, type McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Gateway } from '../core/gateway.js';
import { grantedTo } from '../core/predefined.js';

const MAX_ARG = 10_000;

function user(text: string): GetPromptResult {
  return { messages: [{ role: 'user', content: { type: 'text', text } }] };
}

interface PromptSpec {
  name: string;
  config: { title?: string; description?: string; argsSchema: z.ZodObject };
  handler: (args: Record<string, unknown>) => GetPromptResult;
}

/** Prompt definitions per principal, built once per configuration (per-request servers reuse them). */
const cache = new WeakMap<Gateway, { version: number; byPrincipal: Map<string, PromptSpec[]> }>();

/** Register the prompts one principal may use on a per-request server. */
export function registerPrompts(server: McpServer, gateway: Gateway, principal: string): void {
  let entry = cache.get(gateway);
  if (!entry || entry.version !== gateway.configVersion) {
    entry = { version: gateway.configVersion, byPrincipal: new Map() };
    cache.set(gateway, entry);
  }
  let specs = entry.byPrincipal.get(principal);
  if (!specs) {
    specs = promptSpecs(gateway, principal);
    entry.byPrincipal.set(principal, specs);
  }
  for (const spec of specs) server.registerPrompt(spec.name, spec.config, spec.handler as never);
}

function promptSpecs(gateway: Gateway, principal: string): PromptSpec[] {
  const out: PromptSpec[] = [];
  const server = {
    registerPrompt: (name: string, config: PromptSpec['config'], handler: (args: never) => GetPromptResult): void => {
      out.push({ name, config, handler: handler as PromptSpec['handler'] });
    },
  };
  const databases = gateway.principal(principal)?.databases ?? [];
  const tools = gateway.tools(principal);
  // completable inside optional: the SDK unwraps the optional before it looks for the completer
  const database = completable(z.string().max(200).describe(`Database (default: ${databases[0] ?? 'none'}).`), (value: string) => databases.filter((d) => d.startsWith(value))).optional();
  const on = (db: string | undefined): string => (db && databases.includes(db) ? ` (pass database: "${db}")` : '');

  if (databases.length > 0 && tools.has('describe')) {
    server.registerPrompt(
      'explore_database',
      { title: 'Explore a database', description: 'Map the schemas and tables you may read, then summarize what the data is about.', argsSchema: z.object({ database }) },
      ({ database: db }) =>
        user(
          `Explore the database${on(db)} through pgwarden. First call describe with no table to list the schemas and tables you may read. ` +
            'Then call describe on the most important tables (columns, keys, masked columns, a few sample rows). ' +
            'Summarize what each table holds and how they relate (foreign keys). Masked columns never show real values: do not try to recover them.',
        ),
    );
  }
  if (databases.length > 0 && tools.has('query') && tools.has('check')) {
    server.registerPrompt(
      'answer_question',
      {
        title: 'Answer a question with SQL',
        description: 'Answer a question from the data: describe, check the statement, then query.',
        argsSchema: z.object({ question: z.string().min(1).max(MAX_ARG).describe('The question to answer from the data.'), database }),
      },
      ({ question, database: db }) =>
        user(
          `Answer this question from the data${on(db)}: ${question}\n\n` +
            'Use describe to find the relevant tables and columns. Write ONE read statement; call check with it first and apply any fix the reasons give. ' +
            'Then call query. If the result says truncated:true, aggregate or filter instead of reading more rows. Cite the tables you used.',
        ),
    );
  }
  if (databases.length > 0 && tools.has('execute') && tools.has('check')) {
    server.registerPrompt(
      'prepare_write',
      {
        title: 'Prepare a guarded write',
        description: 'Plan one INSERT/UPDATE/DELETE, check its verdict and blast radius, then execute it.',
        argsSchema: z.object({ change: z.string().min(1).max(MAX_ARG).describe('The change to make, in words.'), database }),
      },
      ({ change, database: db }) =>
        user(
          `Make this change${on(db)}: ${change}\n\n` +
            'Use describe to find the table and its primary key. Write ONE INSERT, UPDATE or DELETE whose WHERE names exactly the rows to change. ' +
            'Call check with it and fix every reason. Then call execute: a small write runs and returns an undoId (keep it: revert undoes the write); ' +
            'a larger one is held for a human (decision "hold", nothing ran yet): tell the user the approvalId and stop.',
        ),
    );
  }
  const config = gateway.config;
  for (const [name, prompt] of Object.entries(config.prompts)) {
    if (!grantedTo(config, prompt, principal)) continue;
    const shape: Record<string, z.ZodType> = {};
    for (const a of prompt.arguments) {
      const values = a.values;
      let s: z.ZodType = values ? z.enum(values as [string, ...string[]]) : z.string().max(MAX_ARG);
      if (a.description !== undefined) s = s.describe(a.description);
      if (values) s = completable(s, (value: unknown) => values.filter((v) => v.startsWith(typeof value === 'string' ? value : '')));
      shape[a.name] = a.required ? s : s.optional();
    }
    server.registerPrompt(
      name,
      { ...(prompt.title ? { title: prompt.title } : {}), ...(prompt.description ? { description: prompt.description } : {}), argsSchema: z.object(shape) },
      (args: Record<string, unknown>) =>
        user(prompt.text.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_m, key: string) => (typeof args[key] === 'string' ? args[key] : ''))),
    );
  }
  return out;
}
