import type { Queryable } from '../db/types.js';
import { ident } from '../util/quote.js';
import { collisionSql } from './conflicts.js';
import { readSource, readTarget, selTable, type TransferPlan } from './plan.js';
import { bindKey, sourceRows } from './source-rows.js';
import { columnsMatch, isStaged } from './sql-fragments.js';
import { untilStable } from './stage.js';

/**
 * --on-conflict skip: a staged row is kept out of the target when its key
 * exists there, and so is every row that needs a kept row: a reference to it
 * that the target cannot satisfy with a row of its own.
 */
export async function markKept(db: Queryable, plan: TransferPlan, targetKey: string): Promise<void> {
  for (const table of plan.scope) {
    for (const key of plan.target.tables.get(table)!.keys) {
      const scan = collisionSql(plan, table, key, { selection: 'selected', maps: true });
      if (!scan) continue;
      const q = bindKey(
        `UPDATE ${selTable(plan, table)} k SET keep = true FROM (${scan}) x WHERE k.rel = x.rel AND k.rid = x.rid AND NOT k.keep`,
        targetKey,
      );
      await db.query(q.sql, q.values);
    }
  }
  for (const group of plan.groups) {
    const statements = plan.edges
      .filter((e) => group.tables.includes(e.child))
      .map((e) => {
        const child = sourceRows(plan, e.child, { selection: 'written' });
        const satisfied = e.columns.map((c, i) => `b.${ident(e.refColumns[i]!)} = ${child.value(c)}`).join(' AND ');
        return bindKey(
          `UPDATE ${selTable(plan, e.child)} kc SET keep = true FROM (
             SELECT s.tableoid AS rel, s.ctid AS rid ${child.from}
             JOIN ${readSource(plan, e.parent)} p ON ${columnsMatch('s', e.columns, 'p', e.refColumns)}
             JOIN ${selTable(plan, e.parent)} kp ON ${isStaged('kp', 'p')} AND kp.keep
             WHERE NOT EXISTS (SELECT 1 FROM ${readTarget(plan, e.parent)} b WHERE ${satisfied})) x
           WHERE kc.rel = x.rel AND kc.rid = x.rid AND NOT kc.keep`,
          targetKey,
        );
      });
    await untilStable(db, group, statements);
  }
}

/**
 * move: what leaves the source. Every moved row that was written, except
 * rows still referenced by a source row that stays (a kept row, or a row
 * outside the selection): those are copied, not moved. Children's groups
 * first, so a row is settled before the rows it references.
 */
export async function markDeletable(db: Queryable, plan: TransferPlan, skipMode: boolean): Promise<void> {
  await db.query(plan.scope.map((t) => `UPDATE ${selTable(plan, t)} SET del = moved AND NOT keep`).join(';\n'));
  if (!skipMode) return;
  for (const group of [...plan.groups].reverse()) {
    const statements = plan.edges
      .filter((e) => group.tables.includes(e.parent) && plan.carried.has(e.parent))
      .map((e) => ({
        sql: `UPDATE ${selTable(plan, e.parent)} kp SET del = false
          FROM ${readSource(plan, e.parent)} p
          JOIN ${readSource(plan, e.child)} c ON ${columnsMatch('c', e.columns, 'p', e.refColumns)}
          WHERE kp.del AND ${isStaged('kp', 'p')}
            AND NOT EXISTS (SELECT 1 FROM ${selTable(plan, e.child)} kc WHERE ${isStaged('kc', 'c')} AND kc.del)`,
      }));
    await untilStable(db, group, statements);
  }
}
