/**
 * The guard walk as a visitor: one total table over NodeTag (src/guard/ast/traverse.ts) whose
 * handlers live in the concern files beside it (statements, operators, calls, regtypes).
 *
 * Guarantees: every statement kind gets the statement handler (nested writes/statements, the
 * utility flag) or a specialisation of it; every raw kind is handled or descended into; every
 * post-analysis or result-wrapper kind, every tag the installed parser does not know and every
 * malformed node is recorded in `unknownTypes` (UNKNOWN_STATEMENT: deny by default).
 * Does not: apply policy (policy.ts).
 */
import { DESCEND, REFUSE, visitorTable, type Visitor } from '../ast/traverse.js';
import { argsMix, arrayExpr, funcCall, rangeFunction, rangeTableSample } from './calls.js';
import { aExpr, caseExpr, joinExpr, sortBy, subLink } from './operators.js';
import { typeCast, typeName } from './regtypes.js';
import { F_CREATE_TARGET, F_OTHER, F_WRITE_TARGET, type GuardWalk } from './state.js';
import { copyStmt, dmlStmt, explainStmt, intoClause, paramRef, rangeVar, selectStmt, sqlValueFunction, statement } from './statements.js';

export const GUARD_VISITOR: Visitor<GuardWalk> = {
  table: visitorTable<GuardWalk>(
    { statement, raw: DESCEND, 'post-analysis': REFUSE, 'result-wrapper': REFUSE },
    {
      SelectStmt: selectStmt,
      InsertStmt: dmlStmt,
      UpdateStmt: dmlStmt,
      DeleteStmt: dmlStmt,
      MergeStmt: dmlStmt,
      ExplainStmt: explainStmt,
      CopyStmt: copyStmt,
      IntoClause: intoClause,
      RangeVar: rangeVar,
      FuncCall: funcCall,
      TypeCast: typeCast,
      TypeName: typeName,
      A_Expr: aExpr,
      SubLink: subLink,
      SortBy: sortBy,
      CaseExpr: caseExpr,
      JoinExpr: joinExpr,
      RangeFunction: rangeFunction,
      A_ArrayExpr: arrayExpr,
      CoalesceExpr: argsMix,
      MinMaxExpr: argsMix,
      RangeTableSample: rangeTableSample,
      ParamRef: paramRef,
      SQLValueFunction: sqlValueFunction,
    },
  ),
  // children keep only "named by a utility statement"; the root and target flags are per node
  inherit: F_OTHER,
  // a list passes its flags on to its items, except "root"
  listInherit: F_WRITE_TARGET | F_CREATE_TARGET | F_OTHER,
  refuse(state, tag) {
    state.facts.unknownTypes.push(tag);
  },
  malformed(state) {
    state.facts.unknownTypes.push('<malformed node>');
  },
};
