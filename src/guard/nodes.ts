/**
 * The guard's knowledge of parse-node types: which statement node means which statement class,
 * and which non-statement nodes the walker understands.
 *
 * Guarantees: deny by default — a node type absent from both tables is "unknown" and makes the
 * decision UNKNOWN_STATEMENT. The raw kinds are those of role 'raw' in ast/tags.ts NODE_ROLE
 * (total over the parser's tags: a new kind is a compile error there); post-analysis kinds (Var,
 * Aggref, Query, OpExpr, …) never appear in a raw parse tree and are unknown here.
 * Does not: judge anything by itself; see classify.ts and walk.ts.
 */
import type { ObjectType } from '@pgsql/types';
import { tagsWithRole, type NodeTag } from './ast/tags.js';
import type { StatementKind, WriteKind } from './types.js';

/**
 * Class of each statement node type (keys are NodeTags: a misspelt or removed tag does not
 * compile; kinds.test.ts checks the keys are exactly the tags of role 'statement').
 */
export const STATEMENT_CLASS: Readonly<Partial<Record<NodeTag, StatementKind>>> = {
  // reads / writes / explain
  SelectStmt: 'read',
  InsertStmt: 'write',
  UpdateStmt: 'write',
  DeleteStmt: 'write',
  MergeStmt: 'write',
  CreateTableAsStmt: 'write', // refined in classify.ts (CREATE MATERIALIZED VIEW is DDL)
  ExplainStmt: 'explain',

  // transaction control
  TransactionStmt: 'transaction',
  ConstraintsSetStmt: 'transaction',

  // session control
  VariableSetStmt: 'session',
  VariableShowStmt: 'session',
  DiscardStmt: 'session',

  // utility
  CopyStmt: 'utility',
  VacuumStmt: 'utility',
  LockStmt: 'utility',
  ListenStmt: 'utility',
  NotifyStmt: 'utility',
  UnlistenStmt: 'utility',
  PrepareStmt: 'utility',
  ExecuteStmt: 'utility',
  DeallocateStmt: 'utility',
  DeclareCursorStmt: 'utility',
  FetchStmt: 'utility',
  ClosePortalStmt: 'utility',
  DoStmt: 'utility',
  CallStmt: 'utility',
  CheckPointStmt: 'utility',
  LoadStmt: 'utility',
  RefreshMatViewStmt: 'utility',
  ClusterStmt: 'utility',
  ReindexStmt: 'utility',
  SecLabelStmt: 'utility',
  ImportForeignSchemaStmt: 'utility',
  ReturnStmt: 'utility',
  PLAssignStmt: 'utility',

  // DCL: privileges and roles
  GrantStmt: 'dcl',
  GrantRoleStmt: 'dcl',
  CreateRoleStmt: 'dcl',
  AlterRoleStmt: 'dcl',
  AlterRoleSetStmt: 'dcl',
  DropRoleStmt: 'dcl',
  AlterDefaultPrivilegesStmt: 'dcl',
  DropOwnedStmt: 'dcl',
  ReassignOwnedStmt: 'dcl',
  CreateUserMappingStmt: 'dcl',
  AlterUserMappingStmt: 'dcl',
  DropUserMappingStmt: 'dcl',

  // DDL
  CreateStmt: 'ddl',
  AlterTableStmt: 'ddl',
  DropStmt: 'ddl',
  TruncateStmt: 'ddl',
  CommentStmt: 'ddl',
  IndexStmt: 'ddl',
  ViewStmt: 'ddl',
  CreateSeqStmt: 'ddl',
  AlterSeqStmt: 'ddl',
  CreateFunctionStmt: 'ddl',
  AlterFunctionStmt: 'ddl',
  RenameStmt: 'ddl',
  AlterObjectSchemaStmt: 'ddl',
  AlterObjectDependsStmt: 'ddl',
  AlterOwnerStmt: 'ddl',
  CreateSchemaStmt: 'ddl',
  CreateExtensionStmt: 'ddl',
  AlterExtensionStmt: 'ddl',
  AlterExtensionContentsStmt: 'ddl',
  CreateTrigStmt: 'ddl',
  CreateEventTrigStmt: 'ddl',
  AlterEventTrigStmt: 'ddl',
  CreatePLangStmt: 'ddl',
  CreateDomainStmt: 'ddl',
  AlterDomainStmt: 'ddl',
  DefineStmt: 'ddl',
  CompositeTypeStmt: 'ddl',
  CreateEnumStmt: 'ddl',
  AlterEnumStmt: 'ddl',
  CreateRangeStmt: 'ddl',
  CreateCastStmt: 'ddl',
  CreateOpClassStmt: 'ddl',
  CreateOpFamilyStmt: 'ddl',
  AlterOpFamilyStmt: 'ddl',
  AlterOperatorStmt: 'ddl',
  AlterTypeStmt: 'ddl',
  CreateConversionStmt: 'ddl',
  CreateTransformStmt: 'ddl',
  CreateAmStmt: 'ddl',
  CreateFdwStmt: 'ddl',
  AlterFdwStmt: 'ddl',
  CreateForeignServerStmt: 'ddl',
  AlterForeignServerStmt: 'ddl',
  CreateForeignTableStmt: 'ddl',
  CreateTableSpaceStmt: 'ddl',
  DropTableSpaceStmt: 'ddl',
  AlterTableSpaceOptionsStmt: 'ddl',
  AlterTableMoveAllStmt: 'ddl',
  CreatedbStmt: 'ddl',
  AlterDatabaseStmt: 'ddl',
  AlterDatabaseRefreshCollStmt: 'ddl',
  AlterDatabaseSetStmt: 'ddl',
  DropdbStmt: 'ddl',
  AlterSystemStmt: 'ddl',
  RuleStmt: 'ddl',
  CreatePolicyStmt: 'ddl',
  AlterPolicyStmt: 'ddl',
  CreatePublicationStmt: 'ddl',
  AlterPublicationStmt: 'ddl',
  CreateSubscriptionStmt: 'ddl',
  AlterSubscriptionStmt: 'ddl',
  DropSubscriptionStmt: 'ddl',
  CreateStatsStmt: 'ddl',
  AlterStatsStmt: 'ddl',
  AlterCollationStmt: 'ddl',
  AlterTSDictionaryStmt: 'ddl',
  AlterTSConfigurationStmt: 'ddl',
  ReplicaIdentityStmt: 'ddl',
};

/**
 * Non-statement node types that appear in raw parse trees and that the walker understands.
 * Expression, clause and helper nodes of DML/SELECT, plus the helper nodes of utility and DDL
 * statements (those statements are refused by class anyway; their parts are known so the refusal
 * names the real reason instead of UNKNOWN_STATEMENT).
 */
export const KNOWN_NODES: ReadonlySet<string> = new Set(tagsWithRole('raw'));

export function isStatementType(type: string): boolean {
  return Object.prototype.hasOwnProperty.call(STATEMENT_CLASS, type);
}

/** The DML statements and the write kind of each (the one copy: classify, the guard walk, findWrites). */
export const DML_STATEMENTS = {
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  MergeStmt: 'merge',
} as const satisfies Readonly<Partial<Record<NodeTag, WriteKind>>>;
export type DmlTag = keyof typeof DML_STATEMENTS;
export type DmlKind = (typeof DML_STATEMENTS)[DmlTag];

/**
 * CREATE TABLE … AS / CREATE MATERIALIZED VIEW share CreateTableAsStmt; its objtype tells them
 * apart. Total over ObjectType: 'table' is a write (create_table_as), 'matview' is DDL, 'never' is
 * a member the grammar does not produce here (judged as DDL, the stricter class).
 */
export const CREATE_TABLE_AS_OBJECT: Readonly<Record<ObjectType, 'table' | 'matview' | 'never'>> = {
  OBJECT_ACCESS_METHOD: 'never',
  OBJECT_AGGREGATE: 'never',
  OBJECT_AMOP: 'never',
  OBJECT_AMPROC: 'never',
  OBJECT_ATTRIBUTE: 'never',
  OBJECT_CAST: 'never',
  OBJECT_COLUMN: 'never',
  OBJECT_COLLATION: 'never',
  OBJECT_CONVERSION: 'never',
  OBJECT_DATABASE: 'never',
  OBJECT_DEFAULT: 'never',
  OBJECT_DEFACL: 'never',
  OBJECT_DOMAIN: 'never',
  OBJECT_DOMCONSTRAINT: 'never',
  OBJECT_EVENT_TRIGGER: 'never',
  OBJECT_EXTENSION: 'never',
  OBJECT_FDW: 'never',
  OBJECT_FOREIGN_SERVER: 'never',
  OBJECT_FOREIGN_TABLE: 'never',
  OBJECT_FUNCTION: 'never',
  OBJECT_INDEX: 'never',
  OBJECT_LANGUAGE: 'never',
  OBJECT_LARGEOBJECT: 'never',
  OBJECT_MATVIEW: 'matview',
  OBJECT_OPCLASS: 'never',
  OBJECT_OPERATOR: 'never',
  OBJECT_OPFAMILY: 'never',
  OBJECT_PARAMETER_ACL: 'never',
  OBJECT_POLICY: 'never',
  OBJECT_PROCEDURE: 'never',
  OBJECT_PUBLICATION: 'never',
  OBJECT_PUBLICATION_NAMESPACE: 'never',
  OBJECT_PUBLICATION_REL: 'never',
  OBJECT_ROLE: 'never',
  OBJECT_ROUTINE: 'never',
  OBJECT_RULE: 'never',
  OBJECT_SCHEMA: 'never',
  OBJECT_SEQUENCE: 'never',
  OBJECT_SUBSCRIPTION: 'never',
  OBJECT_STATISTIC_EXT: 'never',
  OBJECT_TABCONSTRAINT: 'never',
  OBJECT_TABLE: 'table',
  OBJECT_TABLESPACE: 'never',
  OBJECT_TRANSFORM: 'never',
  OBJECT_TRIGGER: 'never',
  OBJECT_TSCONFIGURATION: 'never',
  OBJECT_TSDICTIONARY: 'never',
  OBJECT_TSPARSER: 'never',
  OBJECT_TSTEMPLATE: 'never',
  OBJECT_TYPE: 'never',
  OBJECT_USER_MAPPING: 'never',
  OBJECT_VIEW: 'never',
};
