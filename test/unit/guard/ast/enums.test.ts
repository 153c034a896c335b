/**
 * Enum exhaustiveness (issue #15): every walker that branches on a parser enum does so through a
 * total table, `Record<Enum, …>` with an explicit entry per member, so a parser upgrade that adds
 * a member fails to compile (the `@ts-expect-error` lines below prove it: they would stop being
 * errors if a table were widened to a partial one) and fails here (the keys are compared with the
 * members read from the installed @pgsql/types at run time). A scan of src/guard and src/db finds
 * any other comparison with an enum member: each one left is listed below with why it is not a
 * table. Upgrades are simulated on the declaration texts: a new member, a new node kind.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { A_Expr_Kind, BoolExprType, BoolTestType, NullTestType, ObjectType, OnConflictAction, SetOperation, SQLValueFunctionOp, SubLinkType } from '@pgsql/types';
import { describe, expect, it } from 'vitest';
import { NODE_TYPES } from '../../../../src/guard/ast/fields.js';
import { parseEnums, parseNodeTypes, pgsqlTypesFile, render } from '../../../../src/guard/ast/gen-fields.js';
import { NODE_ROLE } from '../../../../src/guard/ast/tags.js';
import { A_EXPR_OPERANDS, A_EXPR_OPERATORS, SUBLINK_OPERATORS } from '../../../../src/guard/facts/operators.js';
import { SESSION_VALUE_OPS } from '../../../../src/guard/facts/statements.js';
import { CREATE_TABLE_AS_OBJECT } from '../../../../src/guard/nodes.js';
import { A_EXPR_RESULT, SUBLINK_NAME, SUBLINK_RESULT, SVF_TYPES } from '../../../../src/guard/resolve.js';
import { ON_CONFLICT_UNDO } from '../../../../src/guard/write/reversible.js';
import { TAUTOLOGY_ENUM_TABLES } from '../../../../src/guard/write/tautology.js';

const ROOT = new URL('../../../../', import.meta.url).pathname;

/** Every total enum table of the guard, with the enum it is keyed by. */
const TABLES: readonly [enumName: string, tableName: string, table: object][] = [
  ['A_Expr_Kind', 'facts/operators A_EXPR_OPERATORS', A_EXPR_OPERATORS],
  ['A_Expr_Kind', 'facts/operators A_EXPR_OPERANDS', A_EXPR_OPERANDS],
  ['A_Expr_Kind', 'resolve A_EXPR_RESULT', A_EXPR_RESULT],
  ['A_Expr_Kind', 'write/tautology A_EXPR_TRUTH', TAUTOLOGY_ENUM_TABLES.A_Expr_Kind],
  ['SubLinkType', 'facts/operators SUBLINK_OPERATORS', SUBLINK_OPERATORS],
  ['SubLinkType', 'resolve SUBLINK_RESULT', SUBLINK_RESULT],
  ['SubLinkType', 'resolve SUBLINK_NAME', SUBLINK_NAME],
  ['SubLinkType', 'write/tautology SUBLINK_FORM', TAUTOLOGY_ENUM_TABLES.SubLinkType],
  ['BoolExprType', 'write/tautology BOOL_EXPR', TAUTOLOGY_ENUM_TABLES.BoolExprType],
  ['NullTestType', 'write/tautology NULL_TEST', TAUTOLOGY_ENUM_TABLES.NullTestType],
  ['BoolTestType', 'write/tautology BOOL_TEST', TAUTOLOGY_ENUM_TABLES.BoolTestType],
  ['SetOperation', 'write/tautology SINGLE_ROW_SETOP', TAUTOLOGY_ENUM_TABLES.SetOperation],
  ['SQLValueFunctionOp', 'facts/statements SESSION_VALUE_OPS', SESSION_VALUE_OPS],
  ['SQLValueFunctionOp', 'resolve SVF_TYPES', SVF_TYPES],
  ['ObjectType', 'nodes CREATE_TABLE_AS_OBJECT', CREATE_TABLE_AS_OBJECT],
  ['OnConflictAction', 'write/reversible ON_CONFLICT_UNDO', ON_CONFLICT_UNDO],
];

// A parser upgrade that adds a member: each table stops compiling (npm run typecheck covers tests).
type Upgraded<E extends string> = Readonly<Record<E | 'MEMBER_ADDED_BY_A_NEWER_PARSER', unknown>>;
// @ts-expect-error a total table over A_Expr_Kind misses a new member
export const _aExpr: Upgraded<A_Expr_Kind> = A_EXPR_OPERATORS;
// @ts-expect-error SubLinkType
export const _subLink: Upgraded<SubLinkType> = SUBLINK_RESULT;
// @ts-expect-error BoolExprType
export const _boolExpr: Upgraded<BoolExprType> = TAUTOLOGY_ENUM_TABLES.BoolExprType;
// @ts-expect-error NullTestType
export const _nullTest: Upgraded<NullTestType> = TAUTOLOGY_ENUM_TABLES.NullTestType;
// @ts-expect-error BoolTestType
export const _boolTest: Upgraded<BoolTestType> = TAUTOLOGY_ENUM_TABLES.BoolTestType;
// @ts-expect-error SetOperation
export const _setOp: Upgraded<SetOperation> = TAUTOLOGY_ENUM_TABLES.SetOperation;
// @ts-expect-error SQLValueFunctionOp
export const _svf: Upgraded<SQLValueFunctionOp> = SESSION_VALUE_OPS;
// @ts-expect-error ObjectType
export const _objType: Upgraded<ObjectType> = CREATE_TABLE_AS_OBJECT;
// @ts-expect-error OnConflictAction
export const _onConflict: Upgraded<OnConflictAction> = ON_CONFLICT_UNDO;

/** Members of `members` a table has no entry for, and entries that are no member. */
function mismatch(table: object, members: readonly string[]): { missing: string[]; extra: string[] } {
  const keys = Object.keys(table);
  return { missing: members.filter((m) => !keys.includes(m)), extra: keys.filter((k) => !members.includes(k)) };
}

/** Enums of the scanner (keywords, tokens): they name words, not node fields; left out of the scan. */
const SCANNER_ENUMS = new Set(['Token', 'KeywordKind', 'Context']);

/**
 * Quoted enum members in src/guard and src/db that are not entries of a total table, each with
 * the reason it stays (`file: member`).
 */
const ALLOWED_SITES: Readonly<Record<string, string>> = {
  // tree construction, not a branch: the planner builds the count and capture statements
  'src/guard/write/plan.ts: COERCE_EXPLICIT_CALL': 'builds a FuncCall',
  'src/guard/write/plan.ts: LIMIT_OPTION_DEFAULT': 'builds a SelectStmt',
  'src/guard/write/plan.ts: SETOP_NONE': 'builds a SelectStmt',
  'src/guard/write/plan.ts: EXISTS_SUBLINK': 'builds a SubLink',
  'src/guard/write/plan.ts: LCS_FORUPDATE': 'builds a LockingClause',
  'src/guard/write/plan.ts: LockWaitBlock': 'builds a LockingClause',
  // single-shape tests: one member has the shape, every other (and any new one) is opaque (ANY)
  'src/guard/write/tautology.ts: AEXPR_OP': 'isPlainOperator: the plain `a op b` shape',
  'src/guard/write/tautology.ts: NOT_EXPR': 'isNot: the NOT p shape of a complement',
  'src/guard/write/tautology.ts: OR_EXPR': 'isOr: flattening nested ORs',
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** `file: member` for every quoted member of a node-field enum outside a table entry line. */
function enumSites(members: ReadonlyMap<string, string>): Set<string> {
  const sites = new Set<string>();
  for (const file of [...sourceFiles(join(ROOT, 'src/guard')), ...sourceFiles(join(ROOT, 'src/db'))]) {
    const rel = relative(ROOT, file);
    if (rel === 'src/guard/ast/tags.ts') continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (/^\s*(\/\/|\*|\/\*)/.test(line)) continue;
      const entry = /^\s*([A-Za-z_]+):/.exec(line)?.[1];
      if (entry !== undefined && members.has(entry)) continue; // an entry of a total table
      for (const m of line.matchAll(/'([A-Za-z_]+)'/g)) if (members.has(m[1] as string)) sites.add(`${rel}: ${m[1]}`);
    }
  }
  return sites;
}

describe('every parser enum a walker branches on has a total table', () => {
  const enums = parseEnums(pgsqlTypesFile('enums.d.ts'));

  it.each(TABLES.map(([e, name, table]) => [name, e, table] as const))('%s covers exactly the members of %s', (_name, enumName, table) => {
    const members = enums.get(enumName);
    expect(members, enumName).toBeDefined();
    expect(mismatch(table, members ?? [])).toEqual({ missing: [], extra: [] });
  });

  it('a simulated parser upgrade that adds a member is caught for every table', () => {
    const text = pgsqlTypesFile('enums.d.ts');
    for (const [enumName, name, table] of TABLES) {
      const upgraded = parseEnums(text.replace(new RegExp(`(export type ${enumName} = [^;]+);`), '$1 | "MEMBER_ADDED_BY_A_NEWER_PARSER";'));
      expect(mismatch(table, upgraded.get(enumName) ?? []).missing, name).toEqual(['MEMBER_ADDED_BY_A_NEWER_PARSER']);
    }
  });

  it('no other comparison with a node-field enum member in src/guard or src/db (each left one is justified)', () => {
    const members = new Map<string, string>();
    for (const [name, list] of enums) if (!SCANNER_ENUMS.has(name)) for (const m of list) members.set(m, name);
    expect([...enumSites(members)].sort()).toEqual(Object.keys(ALLOWED_SITES).sort());
  });
});

describe('a simulated parser upgrade that adds a node kind fails the kind tests', () => {
  const text = pgsqlTypesFile('types.d.ts');
  const upgraded = text.replace('export type Node = {', 'export type Node = {\n    NodeAddedByANewerParser: NodeAddedByANewerParser;\n} | {');

  it('the generated field table no longer matches (kinds.test.ts: "regenerates identically")', () => {
    expect(parseNodeTypes(text)).toEqual(NODE_TYPES);
    expect(parseNodeTypes(upgraded).has('NodeAddedByANewerParser')).toBe(true);
    expect(render(upgraded)).not.toBe(render(text));
  });

  it('NODE_ROLE no longer covers every kind (kinds.test.ts: "NODE_ROLE covers exactly")', () => {
    const unclassified = [...parseNodeTypes(upgraded)].filter((t) => !(t in NODE_ROLE));
    expect(unclassified).toEqual(['NodeAddedByANewerParser']);
  });
});
