/**
 * Printing the rewritten tree: pgsql-deparser 18 with the SELECT clauses it loses printed by us.
 *
 * pgsql-deparser 18.3 silently drops `GROUP BY DISTINCT` (it prints `GROUP BY`) and
 * `FETCH FIRST … WITH TIES` (it prints `LIMIT n`), which change a query's meaning. The masking
 * rewrite re-parses what it prints and refuses on any difference (src/mask/index.ts), so those
 * statements used to be refused when they read a masked table (issue #9 item 6). This subclass
 * prints the clause tail of such a SELECT (GROUP BY [DISTINCT], HAVING, WINDOW, ORDER BY,
 * OFFSET … ROWS, FETCH FIRST (n) ROWS WITH TIES, locking) itself, in PostgreSQL's grammar order,
 * and leaves every other node to the library.
 *
 * It also parenthesizes a CASE expression that is the argument of a field selection
 * (`(CASE … END).status`, which the library prints without parentheses).
 *
 * Guarantees: only SELECTs with `groupDistinct` or `LIMIT_OPTION_WITH_TIES`, and field selections
 * from a CASE expression, print differently from pgsql-deparser; the caller still verifies the printed text parses back to the tree.
 * Does not: print pretty (non-pretty mode only), or fix the library's other gaps (JSON_TABLE, the
 * SQL/JSON query functions, `SELECT … INTO`): the round-trip check refuses those.
 *
 * The library is required on the first print, not when this module loads (src/guard/deparser.ts:
 * a start whose first calls rewrite nothing does not load it; issue #13, start-up).
 */
import type { Deparser } from 'pgsql-deparser';
import { deparserLibrary } from '../guard/deparser.js';

type Body = Record<string, unknown>;
type Context = Parameters<Deparser['SelectStmt']>[1];
type SelectNode = Parameters<Deparser['SelectStmt']>[0];
type AnyNode = Parameters<Deparser['visit']>[0];

const TAIL: readonly string[] = ['groupClause', 'groupDistinct', 'havingClause', 'windowClause', 'sortClause', 'limitCount', 'limitOffset', 'limitOption', 'lockingClause'];

function list(v: unknown): AnyNode[] {
  return (Array.isArray(v) ? v : []) as AnyNode[];
}

/** Stands for a parenthesized argument while the library prints an indirection (never a real name: verified by the round trip). */
const ARG = 'pgwarden_indirection_arg';

type MaskDeparserClass = new (tree: AnyNode, options: { pretty: boolean }) => { deparseQuery(): string };
let maskDeparser: MaskDeparserClass | undefined;

/** The subclass, defined over the library's Deparser the first time it is needed. */
function maskDeparserClass(): MaskDeparserClass {
  maskDeparser ??= defineMaskDeparser(deparserLibrary().Deparser);
  return maskDeparser;
}

function defineMaskDeparser(Base: typeof Deparser): MaskDeparserClass {
  return class MaskDeparser extends Base {
    /**
     * `(CASE … END).field`: the library prints a CASE argument of an indirection without parentheses
     * (`CASE … END.field`, which does not parse); the whole-row pass (src/mask/wholerow.ts) makes such
     * arguments out of `(o).field`.
     */
    override A_Indirection(node: Parameters<Deparser['A_Indirection']>[0], context: Parameters<Deparser['A_Indirection']>[1]): string {
      const arg = (node as unknown as Body).arg as Body | undefined;
      if (arg === undefined || !('CaseExpr' in arg)) return super.A_Indirection(node, context);
      const placeholder = { ...(node as unknown as Body), arg: { ColumnRef: { fields: [{ String: { sval: ARG } }] } } };
      const printed = super.A_Indirection(placeholder as unknown as Parameters<Deparser['A_Indirection']>[0], context);
      return printed.replace(`(${ARG})`, () => `(${this.visit(arg as AnyNode, context)})`);
    }

    override SelectStmt(node: SelectNode, context: Context): string {
      const b = node as unknown as Body;
      const ties = b.limitOption === 'LIMIT_OPTION_WITH_TIES';
      if (b.groupDistinct !== true && !ties) return super.SelectStmt(node, context);
      const head: Body = { ...b };
      for (const k of TAIL) delete head[k];
      const out = [super.SelectStmt(head as SelectNode, context)];
      const group = list(b.groupClause);
      if (group.length > 0) {
        out.push(b.groupDistinct === true ? 'GROUP BY DISTINCT' : 'GROUP BY');
        out.push(group.map((e) => this.visit(e, context.spawn('SelectStmt', { group: true }))).join(', '));
      }
      if (b.havingClause !== undefined) out.push('HAVING', this.visit(b.havingClause as AnyNode, context));
      const windows = list(b.windowClause);
      if (windows.length > 0) out.push('WINDOW', windows.map((e) => this.visit(e, context)).join(', '));
      const sort = list(b.sortClause);
      if (sort.length > 0) out.push('ORDER BY', sort.map((e) => this.visit(e, context.spawn('SelectStmt', { sort: true }))).join(', '));
      if (ties) {
        if (b.limitOffset !== undefined) out.push(`OFFSET (${this.visit(b.limitOffset as AnyNode, context)}) ROWS`);
        out.push(`FETCH FIRST (${this.visit(b.limitCount as AnyNode, context)}) ROWS WITH TIES`);
      } else {
        if (b.limitCount !== undefined) out.push(`LIMIT ${this.visit(b.limitCount as AnyNode, context)}`);
        if (b.limitOffset !== undefined) out.push(`OFFSET ${this.visit(b.limitOffset as AnyNode, context)}`);
      }
      const locking = list(b.lockingClause);
      if (locking.length > 0) out.push(locking.map((e) => this.visit(e, context)).join(' '));
      return out.join(' ');
    }
  };
}

/** Print one statement tree (non-pretty), as pgsql-deparser does but for the clauses above. */
export function deparseStatement(tree: unknown): string {
  const MaskDeparser = maskDeparserClass();
  return new MaskDeparser(tree as AnyNode, { pretty: false }).deparseQuery();
}
