import type { Queryable } from '../db/types.js';
import { ident, qualified } from '../util/quote.js';
import type { TransferPlan } from './plan.js';

/**
 * After rows arrive, every sequence that feeds a column they were written to
 * (identity, serial, nextval default) is moved past the largest value now in
 * the column (the smallest, for a descending sequence), so the next insert by
 * the application does not collide. A sequence already past is left alone.
 */
export async function advanceSequences(db: Queryable, plan: TransferPlan, tables: Iterable<string>): Promise<number> {
  let advanced = 0;
  for (const table of tables) {
    const tgt = plan.target.tables.get(table)!;
    for (const c of tgt.columns) {
      const seq = c.sequence;
      if (!seq || c.generated) continue;
      const up = seq.increment > 0;
      const r = await db.query(
        `SELECT setval($1::regclass, x.v) FROM (SELECT ${up ? 'max' : 'min'}(t.${ident(c.name)})::bigint AS v FROM ${qualified(plan.target.schema, table)} t) x,
           ${qualified(seq.schema, seq.name)} q
         WHERE x.v IS NOT NULL AND x.v ${up ? '>=' : '<='} CASE WHEN q.is_called THEN q.last_value + $2::bigint ELSE q.last_value END`,
        [String(seq.oid), seq.increment],
      );
      advanced += r.rowCount ?? 0;
    }
  }
  return advanced;
}
