/**
 * The guard walk's facts (what the policy needs to know about a statement) and the walk state.
 *
 * Guarantees: plain data; arrays are in visit order (callers that compare sort them).
 * Does not: judge anything.
 */
import type { Budget } from '../ast/budget.js';
import type { WriteKind } from '../types.js';

/** How a relation is referenced. */
export type RelationRole =
  | 'read' // FROM / JOIN / subquery / TABLE …
  | 'write' // target of INSERT / UPDATE / DELETE / MERGE
  | 'create' // new relation (SELECT INTO, CREATE TABLE AS): not looked up
  | 'regclass' // a literal cast to regclass, or a regclass argument
  | 'type' // a type name that may be a relation's row type (NULL::internal.api_keys): judged only if it is a relation
  | 'other'; // named by a utility/DDL/DCL statement

export interface RelationRef {
  /** [name] or [schema, name] or [catalog, schema, name], as the parser produced them. */
  parts: string[];
  role: RelationRole;
  /** to_regclass: a missing relation is not an error. */
  optional?: boolean;
  /** The name came from a string literal ('x'::regclass): never echo it unless it resolves. */
  literal?: boolean;
  /** FROM ONLY / UPDATE ONLY …: the scan excludes inheritance children and partitions. */
  only?: boolean;
}

export interface FunctionRef {
  parts: string[];
  kind: 'call' | 'regproc' | 'tablesample';
  /** Positional arguments: the text of a string literal (through casts), else undefined. */
  literalArgs: (string | undefined)[];
}

export interface Facts {
  nodeCount: number;
  maxDepth: number;
  tooComplex: 'nodes' | 'depth' | undefined;
  unknownTypes: string[];
  relations: RelationRef[];
  functions: FunctionRef[];
  /** Operator names ([op] or [schema, op]). */
  operators: string[][];
  params: number;
  locking: boolean;
  /** DML statements found below the root (data-modifying CTEs, at any depth). */
  nestedWrites: WriteKind[];
  /** Non-SELECT, non-DML statement types found below the root. */
  nestedStatements: string[];
  /** COPY … TO/FROM PROGRAM or a server file. */
  copyProgram: boolean;
  /**
   * Casts to an object-identifier type (regclass, regproc, regrole, …) of a value computed at run
   * time or given as a numeric OID: they resolve names from the system catalogs and cannot be
   * checked statically.
   */
  dynamicRegCasts: string[];
  /**
   * Object-identifier values (a literal cast such as 'app.orders'::regclass, or a call such as
   * to_regclass(…) / pg_typeof(…)) placed where PostgreSQL resolves one type for several values:
   * UNION/VALUES branches, sub-select outputs, CASE, COALESCE, GREATEST/LEAST, NULLIF, ARRAY[…],
   * function arguments. The other values are then converted to that type, i.e. looked up in the
   * system catalogs (`SELECT 'app.orders'::regclass UNION ALL SELECT 16390` prints a name).
   */
  regValueMixes: string[];
  /**
   * String literals cast to an object-identifier type that names no relation, function, type or
   * operator (regnamespace, regrole, regconfig, regdictionary, regcollation, aclitem): their input
   * looks the name up in the system catalogs (an existence oracle); judged by policy.ts.
   */
  regNames: { type: string; text: string }[];
  /**
   * SQL value functions that name the session or server (CURRENT_USER, SESSION_USER, USER,
   * CURRENT_ROLE, SYSTEM_USER, CURRENT_CATALOG, CURRENT_SCHEMA), upper case.
   */
  sessionValues: string[];
  /** EXPLAIN (SETTINGS [true]) somewhere in the text: the plan lists modified server settings. */
  explainSettings: boolean;
  /** The argument nodes of each FuncCall reference, for type-based candidate resolution (resolve.ts). */
  callArgs: Map<FunctionRef, readonly unknown[]>;
  /**
   * The operand nodes of operators recorded from A_Expr (resolve.ts): `left` undefined for a
   * prefix operator; an operand PostgreSQL does not compare as written (IN lists, ANY arrays,
   * BETWEEN bounds) is ANY_OPERAND.
   */
  operatorArgs: Map<string[], { left: unknown; right: unknown }>;
}

/** An operand whose type the resolver must treat as unknown (any type the statement can produce). */
export const ANY_OPERAND: unknown = Object.freeze({});

export interface WalkLimits {
  maxNodes: number;
  maxDepth: number;
}

export function newFacts(): Facts {
  return {
    nodeCount: 0,
    maxDepth: 0,
    tooComplex: undefined,
    unknownTypes: [],
    relations: [],
    functions: [],
    operators: [],
    params: 0,
    locking: false,
    nestedWrites: [],
    nestedStatements: [],
    copyProgram: false,
    dynamicRegCasts: [],
    regValueMixes: [],
    regNames: [],
    sessionValues: [],
    explainSettings: false,
    callArgs: new Map(),
    operatorArgs: new Map(),
  };
}

/** The guard visitor's state: the facts, and the budget (for nodes a handler counts itself). */
export interface GuardWalk {
  facts: Facts;
  budget: Budget;
}

// Frame flags of the guard walk
export const F_WRITE_TARGET = 1;
export const F_CREATE_TARGET = 2;
/** The statement at this frame is a root (top level or the statement EXPLAIN wraps). */
export const F_ROOT = 4;
/** RangeVars below are named by a utility/DDL/DCL statement. */
export const F_OTHER = 8;
