// Constraints added to a table that existed before the migration: CHECK and FOREIGN KEY without NOT VALID,
// UNIQUE / PRIMARY KEY / EXCLUDE without USING INDEX; and what NOT VALID checks later prove.
import type { Constraint, Node } from 'libpg-query';
import { strings } from '../names.js';
import type { CheckContext } from './context.js';

const KIND: Partial<Record<NonNullable<Constraint['contype']>, string>> = {
  CONSTR_CHECK: 'a CHECK',
  CONSTR_FOREIGN: 'a FOREIGN KEY',
  CONSTR_UNIQUE: 'a UNIQUE constraint',
  CONSTR_PRIMARY: 'a PRIMARY KEY',
  CONSTR_EXCLUSION: 'an EXCLUDE constraint',
};

/** Findings for one constraint added to an existing table; `column` when it comes with ADD COLUMN. */
export function constraintOnExistingTable(c: Constraint, table: string, ctx: CheckContext, column?: string): void {
  const kind = c.contype ? KIND[c.contype] : undefined;
  if (!kind) return;
  const how =
    column !== undefined ? `ADD COLUMN ${column} with ${kind}` : c.conname ? `ADD CONSTRAINT ${c.conname} (${kind})` : `ADD ${kind}`;
  if ((c.contype === 'CONSTR_CHECK' || c.contype === 'CONSTR_FOREIGN') && !c.skip_validation) {
    const lock =
      c.contype === 'CONSTR_FOREIGN'
        ? `a SHARE ROW EXCLUSIVE lock that blocks writes to ${table} and to ${c.pktable?.relname ?? 'the referenced table'}`
        : 'an ACCESS EXCLUSIVE lock that blocks reads and writes';
    ctx.report('constraint-missing-not-valid', `${how} on ${table} without NOT VALID: it scans the whole table while holding ${lock}`, {
      at: c.location,
    });
  }
  if ((c.contype === 'CONSTR_UNIQUE' || c.contype === 'CONSTR_PRIMARY' || c.contype === 'CONSTR_EXCLUSION') && !c.indexname) {
    ctx.report(
      'disallowed-unique-constraint',
      `${how} on ${table}: it builds its index under an ACCESS EXCLUSIVE lock, blocking reads and writes`,
      { at: c.location },
    );
  }
}

/** Keeps track of CHECK (col IS NOT NULL): NOT VALID ones to validate later, valid ones that prove the column. */
export function trackConstraint(c: Constraint, table: string, ctx: CheckContext): void {
  if (c.contype !== 'CONSTR_CHECK') return;
  const column = notNullColumn(c.raw_expr);
  if (c.skip_validation) {
    if (c.conname) ctx.state.addedNotValid(table, c.conname, column);
  } else if (column !== undefined) ctx.state.provedNotNull(table, column);
}

/** The column of `col IS NOT NULL`, else undefined. */
function notNullColumn(expr: Node | undefined): string | undefined {
  if (!expr || !('NullTest' in expr)) return undefined;
  const t = expr.NullTest;
  if (t.nulltesttype !== 'IS_NOT_NULL' || !t.arg || !('ColumnRef' in t.arg)) return undefined;
  return strings(t.arg.ColumnRef.fields).at(-1);
}
