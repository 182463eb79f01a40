import type { Queryable } from '../db/types.js';
import { ident } from '../util/quote.js';
import { mapTable, readSource, selTable, type TransferPlan } from './plan.js';
import { isStaged } from './sql-fragments.js';

/**
 * --remap-keys: one map per remapped key column, old value -> a new value
 * drawn from the target's own sequence, in the order of the old values. Every
 * reference to the key is rewritten through the same map when rows are
 * written. Sequence values are not transactional: a failed run leaves a gap.
 */
export async function fillMaps(db: Queryable, plan: TransferPlan): Promise<void> {
  if (plan.remap.length === 0) return;
  await db.query(
    plan.remap
      .map(
        (m) =>
          `CREATE TEMP TABLE ${mapTable(m).replace('pg_temp.', '')} (old ${m.type} PRIMARY KEY, new ${m.type} NOT NULL) ON COMMIT DROP`,
      )
      .join(';\n'),
  );
  for (const m of plan.remap) {
    const col = ident(m.column);
    const stage = plan.staged ? `JOIN ${selTable(plan, m.table)} k ON ${isStaged('k', 's')}` : '';
    await db.query(
      `INSERT INTO ${mapTable(m)} (old, new)
       SELECT x.v, nextval($1::regclass) FROM (SELECT DISTINCT s.${col} AS v FROM ${readSource(plan, m.table)} s ${stage}
         WHERE s.${col} IS NOT NULL ORDER BY 1) x`,
      [String(m.sequence.oid)],
    );
  }
  await db.query(plan.remap.map((m) => `ANALYZE ${mapTable(m)}`).join(';\n'));
}
