/**
 * The guard's knowledge of parse-node types: which statement node means which statement class,
 * and which non-statement nodes the walker understands.
 *
 * Guarantees: deny by default — a node type absent from both tables is "unknown" and makes the
 * decision UNKNOWN_STATEMENT (a new libpg-query / PostgreSQL release that adds node types fails
 * closed until someone classifies them here). Post-analysis node types (Var, Aggref, Query,
 * OpExpr, …) never appear in a raw parse tree and are deliberately absent.
 * Does not: judge anything by itself; see classify.ts and walk.ts.
 */
import type { StatementKind } from './types.js';

/** Class of each statement node type. */
export const STATEMENT_CLASS: Readonly<Record<string, StatementKind>> = {
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
export const KNOWN_NODES: ReadonlySet<string> = new Set([
  // values
  'Integer', 'Float', 'Boolean', 'String', 'BitString', 'List', 'A_Const',
  // names and references
  'Alias', 'RangeVar', 'ColumnRef', 'A_Star', 'A_Indices', 'A_Indirection', 'ParamRef', 'TypeName', 'RoleSpec',
  // expressions
  'A_Expr', 'BoolExpr', 'NullTest', 'BooleanTest', 'SubLink', 'CaseExpr', 'CaseWhen', 'CoalesceExpr', 'MinMaxExpr',
  'RowExpr', 'A_ArrayExpr', 'SQLValueFunction', 'TypeCast', 'CollateClause', 'FuncCall', 'NamedArgExpr',
  'GroupingFunc', 'XmlExpr', 'XmlSerialize', 'SetToDefault', 'MultiAssignRef', 'CurrentOfExpr', 'MergeSupportFunc',
  // JSON (SQL/JSON constructors, predicates, query functions, JSON_TABLE)
  'JsonFormat', 'JsonReturning', 'JsonValueExpr', 'JsonIsPredicate', 'JsonBehavior', 'JsonOutput', 'JsonArgument',
  'JsonFuncExpr', 'JsonTablePathSpec', 'JsonTable', 'JsonTableColumn', 'JsonKeyValue', 'JsonParseExpr',
  'JsonScalarExpr', 'JsonSerializeExpr', 'JsonObjectConstructor', 'JsonArrayConstructor',
  'JsonArrayQueryConstructor', 'JsonAggConstructor', 'JsonObjectAgg', 'JsonArrayAgg',
  // query clauses
  'ResTarget', 'SortBy', 'WindowDef', 'RangeSubselect', 'RangeFunction', 'RangeTableFunc', 'RangeTableFuncCol',
  'RangeTableSample', 'JoinExpr', 'GroupingSet', 'WithClause', 'CommonTableExpr', 'CTESearchClause',
  'CTECycleClause', 'IntoClause', 'LockingClause', 'OnConflictClause', 'InferClause', 'IndexElem',
  'MergeWhenClause', 'ReturningClause', 'ReturningOption', 'DefElem',
  // parts of DDL / DCL / utility statements (refused by statement class)
  'ColumnDef', 'Constraint', 'TableLikeClause', 'PartitionElem', 'PartitionSpec', 'PartitionBoundSpec',
  'PartitionRangeDatum', 'PartitionCmd', 'AlterTableCmd', 'ATAlterConstraint', 'ObjectWithArgs', 'AccessPriv',
  'FunctionParameter', 'CreateOpClassItem', 'StatsElem', 'TriggerTransition', 'VacuumRelation',
  'PublicationTable', 'PublicationObjSpec',
]);

export function isStatementType(type: string): boolean {
  return Object.prototype.hasOwnProperty.call(STATEMENT_CLASS, type);
}
