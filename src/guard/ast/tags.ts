/**
 * Every node kind of the installed parser (@pgsql/types), each with exactly one role.
 *
 * Guarantees: NODE_ROLE is total over NodeTag — a parser upgrade that adds a kind fails to compile
 * here until someone decides what it is — and test/unit/guard/ast/kinds.test.ts checks it equals
 * the generated NODE_TYPES. Roles:
 * - statement: a statement node (its class is in nodes.ts STATEMENT_CLASS);
 * - raw: a non-statement node of raw parse trees, which the walkers descend into or handle;
 * - post-analysis: produced by PostgreSQL's analyser, planner or executor, never by the raw
 *   parser: a walker that meets one refuses the statement (it cannot come from SQL text);
 * - result-wrapper: libpg_query's own result types (parse/scan/summary output), never inside a tree.
 * Does not: judge anything; walkers decide per kind in their own total tables.
 */
import type { Node } from '@pgsql/types';

type KeysOfUnion<T> = T extends unknown ? keyof T : never;

/** Every node tag of the installed @pgsql/types (278 in 18.0.0). */
export type NodeTag = KeysOfUnion<Node>;

export type NodeRole = 'statement' | 'raw' | 'post-analysis' | 'result-wrapper';

export const NODE_ROLE: Readonly<Record<NodeTag, NodeRole>> = {
  // statements (classes: nodes.ts STATEMENT_CLASS)
  AlterCollationStmt: 'statement',
  AlterDatabaseRefreshCollStmt: 'statement',
  AlterDatabaseSetStmt: 'statement',
  AlterDatabaseStmt: 'statement',
  AlterDefaultPrivilegesStmt: 'statement',
  AlterDomainStmt: 'statement',
  AlterEnumStmt: 'statement',
  AlterEventTrigStmt: 'statement',
  AlterExtensionContentsStmt: 'statement',
  AlterExtensionStmt: 'statement',
  AlterFdwStmt: 'statement',
  AlterForeignServerStmt: 'statement',
  AlterFunctionStmt: 'statement',
  AlterObjectDependsStmt: 'statement',
  AlterObjectSchemaStmt: 'statement',
  AlterOpFamilyStmt: 'statement',
  AlterOperatorStmt: 'statement',
  AlterOwnerStmt: 'statement',
  AlterPolicyStmt: 'statement',
  AlterPublicationStmt: 'statement',
  AlterRoleSetStmt: 'statement',
  AlterRoleStmt: 'statement',
  AlterSeqStmt: 'statement',
  AlterStatsStmt: 'statement',
  AlterSubscriptionStmt: 'statement',
  AlterSystemStmt: 'statement',
  AlterTSConfigurationStmt: 'statement',
  AlterTSDictionaryStmt: 'statement',
  AlterTableMoveAllStmt: 'statement',
  AlterTableSpaceOptionsStmt: 'statement',
  AlterTableStmt: 'statement',
  AlterTypeStmt: 'statement',
  AlterUserMappingStmt: 'statement',
  CallStmt: 'statement',
  CheckPointStmt: 'statement',
  ClosePortalStmt: 'statement',
  ClusterStmt: 'statement',
  CommentStmt: 'statement',
  CompositeTypeStmt: 'statement',
  ConstraintsSetStmt: 'statement',
  CopyStmt: 'statement',
  CreateAmStmt: 'statement',
  CreateCastStmt: 'statement',
  CreateConversionStmt: 'statement',
  CreateDomainStmt: 'statement',
  CreateEnumStmt: 'statement',
  CreateEventTrigStmt: 'statement',
  CreateExtensionStmt: 'statement',
  CreateFdwStmt: 'statement',
  CreateForeignServerStmt: 'statement',
  CreateForeignTableStmt: 'statement',
  CreateFunctionStmt: 'statement',
  CreateOpClassStmt: 'statement',
  CreateOpFamilyStmt: 'statement',
  CreatePLangStmt: 'statement',
  CreatePolicyStmt: 'statement',
  CreatePublicationStmt: 'statement',
  CreateRangeStmt: 'statement',
  CreateRoleStmt: 'statement',
  CreateSchemaStmt: 'statement',
  CreateSeqStmt: 'statement',
  CreateStatsStmt: 'statement',
  CreateStmt: 'statement',
  CreateSubscriptionStmt: 'statement',
  CreateTableAsStmt: 'statement',
  CreateTableSpaceStmt: 'statement',
  CreateTransformStmt: 'statement',
  CreateTrigStmt: 'statement',
  CreateUserMappingStmt: 'statement',
  CreatedbStmt: 'statement',
  DeallocateStmt: 'statement',
  DeclareCursorStmt: 'statement',
  DefineStmt: 'statement',
  DeleteStmt: 'statement',
  DiscardStmt: 'statement',
  DoStmt: 'statement',
  DropOwnedStmt: 'statement',
  DropRoleStmt: 'statement',
  DropStmt: 'statement',
  DropSubscriptionStmt: 'statement',
  DropTableSpaceStmt: 'statement',
  DropUserMappingStmt: 'statement',
  DropdbStmt: 'statement',
  ExecuteStmt: 'statement',
  ExplainStmt: 'statement',
  FetchStmt: 'statement',
  GrantRoleStmt: 'statement',
  GrantStmt: 'statement',
  ImportForeignSchemaStmt: 'statement',
  IndexStmt: 'statement',
  InsertStmt: 'statement',
  ListenStmt: 'statement',
  LoadStmt: 'statement',
  LockStmt: 'statement',
  MergeStmt: 'statement',
  NotifyStmt: 'statement',
  PLAssignStmt: 'statement',
  PrepareStmt: 'statement',
  ReassignOwnedStmt: 'statement',
  RefreshMatViewStmt: 'statement',
  ReindexStmt: 'statement',
  RenameStmt: 'statement',
  ReplicaIdentityStmt: 'statement',
  ReturnStmt: 'statement',
  RuleStmt: 'statement',
  SecLabelStmt: 'statement',
  SelectStmt: 'statement',
  TransactionStmt: 'statement',
  TruncateStmt: 'statement',
  UnlistenStmt: 'statement',
  UpdateStmt: 'statement',
  VacuumStmt: 'statement',
  VariableSetStmt: 'statement',
  VariableShowStmt: 'statement',
  ViewStmt: 'statement',
  // raw parse-tree nodes: values, names, expressions, clauses, parts of DDL/DCL/utility statements
  ATAlterConstraint: 'raw',
  A_ArrayExpr: 'raw',
  A_Const: 'raw',
  A_Expr: 'raw',
  A_Indices: 'raw',
  A_Indirection: 'raw',
  A_Star: 'raw',
  AccessPriv: 'raw',
  Alias: 'raw',
  AlterTableCmd: 'raw',
  BitString: 'raw',
  BoolExpr: 'raw',
  Boolean: 'raw',
  BooleanTest: 'raw',
  CTECycleClause: 'raw',
  CTESearchClause: 'raw',
  CaseExpr: 'raw',
  CaseWhen: 'raw',
  CoalesceExpr: 'raw',
  CollateClause: 'raw',
  ColumnDef: 'raw',
  ColumnRef: 'raw',
  CommonTableExpr: 'raw',
  Constraint: 'raw',
  CreateOpClassItem: 'raw',
  CurrentOfExpr: 'raw',
  DefElem: 'raw',
  Float: 'raw',
  FuncCall: 'raw',
  FunctionParameter: 'raw',
  GroupingFunc: 'raw',
  GroupingSet: 'raw',
  IndexElem: 'raw',
  InferClause: 'raw',
  Integer: 'raw',
  IntoClause: 'raw',
  JoinExpr: 'raw',
  JsonAggConstructor: 'raw',
  JsonArgument: 'raw',
  JsonArrayAgg: 'raw',
  JsonArrayConstructor: 'raw',
  JsonArrayQueryConstructor: 'raw',
  JsonBehavior: 'raw',
  JsonFormat: 'raw',
  JsonFuncExpr: 'raw',
  JsonIsPredicate: 'raw',
  JsonKeyValue: 'raw',
  JsonObjectAgg: 'raw',
  JsonObjectConstructor: 'raw',
  JsonOutput: 'raw',
  JsonParseExpr: 'raw',
  JsonReturning: 'raw',
  JsonScalarExpr: 'raw',
  JsonSerializeExpr: 'raw',
  JsonTable: 'raw',
  JsonTableColumn: 'raw',
  JsonTablePathSpec: 'raw',
  JsonValueExpr: 'raw',
  List: 'raw',
  LockingClause: 'raw',
  MergeSupportFunc: 'raw',
  MergeWhenClause: 'raw',
  MinMaxExpr: 'raw',
  MultiAssignRef: 'raw',
  NamedArgExpr: 'raw',
  NullTest: 'raw',
  ObjectWithArgs: 'raw',
  OnConflictClause: 'raw',
  ParamRef: 'raw',
  PartitionBoundSpec: 'raw',
  PartitionCmd: 'raw',
  PartitionElem: 'raw',
  PartitionSpec: 'raw',
  PublicationObjSpec: 'raw',
  PublicationTable: 'raw',
  RangeFunction: 'raw',
  RangeSubselect: 'raw',
  RangeTableFunc: 'raw',
  RangeTableFuncCol: 'raw',
  RangeTableSample: 'raw',
  RangeVar: 'raw',
  ResTarget: 'raw',
  ReturningClause: 'raw',
  ReturningOption: 'raw',
  RoleSpec: 'raw',
  RowExpr: 'raw',
  SQLValueFunction: 'raw',
  SetToDefault: 'raw',
  SortBy: 'raw',
  StatsElem: 'raw',
  String: 'raw',
  SubLink: 'raw',
  TableLikeClause: 'raw',
  TriggerTransition: 'raw',
  TypeCast: 'raw',
  TypeName: 'raw',
  VacuumRelation: 'raw',
  WindowDef: 'raw',
  WithClause: 'raw',
  XmlExpr: 'raw',
  XmlSerialize: 'raw',
  // produced after parsing (analyser, planner, executor): never in a raw tree
  Aggref: 'post-analysis', // analysed aggregate call (raw: FuncCall)
  AlternativeSubPlan: 'post-analysis', // planner
  ArrayCoerceExpr: 'post-analysis', // analysed cast of an array
  ArrayExpr: 'post-analysis', // analysed ARRAY[…] (raw: A_ArrayExpr)
  CallContext: 'post-analysis', // executor context of CALL
  CaseTestExpr: 'post-analysis', // analysed CASE placeholder
  CoerceToDomain: 'post-analysis', // analysed domain cast
  CoerceToDomainValue: 'post-analysis', // analysed VALUE of a domain CHECK
  CoerceViaIO: 'post-analysis', // analysed I/O cast
  CollateExpr: 'post-analysis', // analysed COLLATE (raw: CollateClause)
  ConvertRowtypeExpr: 'post-analysis', // analysed row-type conversion
  DistinctExpr: 'post-analysis', // analysed IS DISTINCT FROM (raw: A_Expr)
  FieldSelect: 'post-analysis', // analysed field access (raw: A_Indirection)
  FieldStore: 'post-analysis', // analysed field assignment
  FromExpr: 'post-analysis', // analysed FROM/WHERE (raw: SelectStmt fields)
  FuncExpr: 'post-analysis', // analysed function call (raw: FuncCall)
  InferenceElem: 'post-analysis', // analysed ON CONFLICT target (raw: IndexElem)
  InlineCodeBlock: 'post-analysis', // executor input of DO (raw: DoStmt)
  IntList: 'post-analysis', // integer list of analysed nodes
  JsonConstructorExpr: 'post-analysis', // analysed JSON constructor
  JsonExpr: 'post-analysis', // analysed JSON query function (raw: JsonFuncExpr)
  JsonTablePath: 'post-analysis', // analysed JSON_TABLE path
  JsonTablePathScan: 'post-analysis', // analysed JSON_TABLE plan
  JsonTableSiblingJoin: 'post-analysis', // analysed JSON_TABLE plan
  MergeAction: 'post-analysis', // analysed MERGE action (raw: MergeWhenClause)
  NextValueExpr: 'post-analysis', // analysed nextval of an identity column
  NullIfExpr: 'post-analysis', // analysed NULLIF (raw: A_Expr)
  OidList: 'post-analysis', // OID list of analysed nodes
  OnConflictExpr: 'post-analysis', // analysed ON CONFLICT (raw: OnConflictClause)
  OpExpr: 'post-analysis', // analysed operator (raw: A_Expr)
  Param: 'post-analysis', // analysed parameter (raw: ParamRef)
  Query: 'post-analysis', // analysed statement
  RTEPermissionInfo: 'post-analysis', // planner permission check
  RangeTblEntry: 'post-analysis', // analysed range-table entry
  RangeTblFunction: 'post-analysis', // analysed function in FROM (raw: RangeFunction)
  RangeTblRef: 'post-analysis', // analysed range reference
  RelabelType: 'post-analysis', // analysed binary-compatible cast
  ReturningExpr: 'post-analysis', // analysed RETURNING OLD/NEW
  RowCompareExpr: 'post-analysis', // analysed row comparison
  RowMarkClause: 'post-analysis', // analysed FOR UPDATE (raw: LockingClause)
  ScalarArrayOpExpr: 'post-analysis', // analysed op ANY (array)
  SetOperationStmt: 'post-analysis', // analysed UNION/INTERSECT/EXCEPT (raw: SelectStmt with op)
  SortGroupClause: 'post-analysis', // analysed ORDER/GROUP item
  SubPlan: 'post-analysis', // planner sub-plan
  SubscriptingRef: 'post-analysis', // analysed subscript (raw: A_Indirection)
  TableFunc: 'post-analysis', // analysed XMLTABLE/JSON_TABLE
  TableSampleClause: 'post-analysis', // analysed TABLESAMPLE (raw: RangeTableSample)
  TargetEntry: 'post-analysis', // analysed output column (raw: ResTarget)
  Var: 'post-analysis', // analysed column reference (raw: ColumnRef)
  WindowClause: 'post-analysis', // analysed WINDOW (raw: WindowDef)
  WindowFunc: 'post-analysis', // analysed window call (raw: FuncCall with over)
  WindowFuncRunCondition: 'post-analysis', // planner window run condition
  WithCheckOption: 'post-analysis', // analysed view/RLS check
  PartitionRangeDatum: 'post-analysis', // made by parse_utilcmd.c from the raw bound (MINVALUE is a ColumnRef in the raw tree); was listed as raw until the corpus-coverage test showed the parser never emits it
  // libpg_query result types
  FilterColumn: 'result-wrapper', // libpg_query: summary output
  Function: 'result-wrapper', // libpg_query: summary output
  ParseResult: 'result-wrapper', // libpg_query: the parse result
  RawStmt: 'result-wrapper', // libpg_query: one statement with its location (parseText unwraps it)
  ScanResult: 'result-wrapper', // libpg_query: scanner output
  ScanToken: 'result-wrapper', // libpg_query: scanner token
  SummaryResult: 'result-wrapper', // libpg_query: summary output
  Table: 'result-wrapper', // libpg_query: summary output
};

/** Whether a string is a node tag of the installed parser. */
export function isNodeTag(tag: string): tag is NodeTag {
  return Object.prototype.hasOwnProperty.call(NODE_ROLE, tag);
}

/** The tags of one role, sorted. */
export function tagsWithRole(role: NodeRole): NodeTag[] {
  return (Object.keys(NODE_ROLE) as NodeTag[]).filter((t) => NODE_ROLE[t] === role).sort();
}
