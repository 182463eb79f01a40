// ALTER COLUMN ... TYPE on a table that existed before the migration.
import type { ColumnDef } from 'libpg-query';
import { typeName } from '../names.js';
import type { CheckContext } from './context.js';

/** Targets that need no rewrite when the column widens into them (varchar to text, varchar(n) to a longer one). */
const WIDENING = new Set(['text', 'varchar', 'citext']);

export function alterColumnType(column: string, def: ColumnDef | undefined, table: string, ctx: CheckContext): void {
  const target = typeName(def?.typeName).toLowerCase();
  const at = def?.location;
  if (def?.raw_default) {
    ctx.report(
      'changing-column-type',
      `ALTER COLUMN ${column} TYPE ${target} USING ... on ${table}: every row is rewritten under an ACCESS EXCLUSIVE lock`,
      { at },
    );
  } else if (WIDENING.has(target)) {
    ctx.report(
      'changing-column-type',
      `ALTER COLUMN ${column} TYPE ${target} on ${table}: no rewrite only if the column is already varchar or text and gets no shorter; any other change rewrites the table under an ACCESS EXCLUSIVE lock`,
      { at, level: 'warn' },
    );
  } else {
    ctx.report(
      'changing-column-type',
      `ALTER COLUMN ${column} TYPE ${target} on ${table}: the table and its indexes are rewritten under an ACCESS EXCLUSIVE lock`,
      { at },
    );
  }
}
