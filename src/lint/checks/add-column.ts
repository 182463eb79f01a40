// ADD COLUMN on a table that existed before the migration: defaults that rewrite it, NOT NULL without a
// default, and constraints that scan it or build an index under its lock.
import type { ColumnDef, Constraint } from 'libpg-query';
import { typeName } from '../names.js';
import { defaultVolatility } from '../volatility.js';
import type { CheckContext } from './context.js';
import { constraintOnExistingTable } from './constraints.js';

const SERIAL = new Set(['serial', 'serial2', 'serial4', 'serial8', 'smallserial', 'bigserial']);

export function addColumn(col: ColumnDef, table: string, ctx: CheckContext): void {
  const name = col.colname ?? '';
  const at = col.location;
  const constraints = (col.constraints ?? []).flatMap((c) => ('Constraint' in c ? [c.Constraint] : []));
  const of = (type: Constraint['contype']) => constraints.find((c) => c.contype === type);
  const rewrite = (why: string) =>
    ctx.report(
      'adding-field-with-volatile-default',
      `ADD COLUMN ${name} to ${table}: ${why}, so every row is rewritten under an ACCESS EXCLUSIVE lock`,
      { at },
    );

  const serial = SERIAL.has(typeName(col.typeName).toLowerCase());
  const identity = of('CONSTR_IDENTITY');
  const generated = of('CONSTR_GENERATED');
  const dflt = of('CONSTR_DEFAULT');
  if (serial) rewrite(`a ${typeName(col.typeName)} column takes a new sequence value per row`);
  else if (identity) rewrite('an identity column takes a new sequence value per row');
  else if (generated && generated.generated_kind !== 'v') rewrite('a stored generated column is computed for every row');
  else if (dflt) {
    const v = defaultVolatility(dflt.raw_expr);
    if (v.kind === 'volatile') rewrite(`its default calls the volatile ${v.name}`);
    else if (v.kind === 'unknown') {
      ctx.report(
        'adding-field-with-volatile-default',
        `ADD COLUMN ${name} to ${table}: its default calls ${v.name}, which lint cannot tell is not volatile; if it is, every row is rewritten under an ACCESS EXCLUSIVE lock`,
        { at, level: 'warn' },
      );
    }
  }
  const filled = serial || identity || generated || dflt;
  if ((of('CONSTR_NOTNULL') || col.is_not_null) && !filled) {
    ctx.report(
      'adding-required-field',
      `ADD COLUMN ${name} NOT NULL to ${table} without a default: it fails as soon as the table has a row`,
      { at },
    );
  }
  for (const c of constraints) constraintOnExistingTable(c, table, ctx, name);
}
