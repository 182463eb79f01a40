import type { Queryable } from '../db/types.js';
import { ident, qualified } from '../util/quote.js';
import type { TableGroup } from './graph.js';
import { readSource, readTarget, selTable, type TransferPlan } from './plan.js';
import { bindKey, sourceRows } from './source-rows.js';
import { columnsMatch, isStaged } from './sql-fragments.js';

/**
 * The staging tables: one per table of the plan, holding the position
 * (tableoid, ctid) of every source row the run touches. Positions are stable
 * for the whole run: the transaction is REPEATABLE READ, and a row changed by
 * someone else meanwhile makes the run fail rather than copy the wrong row.
 *   moved: selected, or carried along as a dependent (a move deletes it)
 *   keep:  not written (skipped, or needs a skipped row)
 *   del:   a move deletes it from the source
 */
export async function createStaging(db: Queryable, plan: TransferPlan): Promise<void> {
  await db.query(
    plan.scope
      .map(
        (t) =>
          `CREATE TEMP TABLE ${selTable(plan, t).replace('pg_temp.', '')} (rel oid NOT NULL, rid tid NOT NULL, moved boolean NOT NULL,
           keep boolean NOT NULL DEFAULT false, del boolean NOT NULL DEFAULT false, PRIMARY KEY (rel, rid)) ON COMMIT DROP`,
      )
      .join(';\n'),
  );
}

/**
 * Every row of the named tables, or those matching --where (the search_path is
 * the source tenant's). No parameters: a $n in the condition cannot pick up a
 * value of tenantctl's; run it with the extended protocol (one statement only).
 */
export function seedSql(plan: TransferPlan, table: string, where: string | undefined): string {
  const filter = where === undefined ? '' : ` WHERE (${where})`;
  // A local copy (Citus) goes by the table's name, so that the condition may name the table.
  const from = plan.mirrored ? `${readSource(plan, table)} AS ${ident(table)}` : qualified(plan.source.schema, table);
  return `INSERT INTO ${selTable(plan, table)} (rel, rid, moved) SELECT tableoid, ctid, true FROM ${from}${filter}`;
}

/** Rows that reference selected rows come along: parents' groups first, each cyclic group to a fixpoint. */
export async function carryDependents(db: Queryable, plan: TransferPlan): Promise<void> {
  for (const group of plan.groups) {
    const edges = plan.edges.filter((e) => group.tables.includes(e.child) && plan.carried.has(e.child) && plan.carried.has(e.parent));
    const statements = edges.map(
      (e) => `INSERT INTO ${selTable(plan, e.child)} (rel, rid, moved)
        SELECT DISTINCT c.tableoid, c.ctid, true FROM ${readSource(plan, e.child)} c
        JOIN ${readSource(plan, e.parent)} p ON ${columnsMatch('c', e.columns, 'p', e.refColumns)}
        JOIN ${selTable(plan, e.parent)} k ON ${isStaged('k', 'p')} AND k.moved
        ON CONFLICT (rel, rid) DO NOTHING`,
    );
    await untilStable(
      db,
      group,
      statements.map((sql) => ({ sql })),
    );
  }
}

/**
 * Rows the selected rows reference come along as parents, unless the target
 * already holds a row with the same key (then the reference points at it).
 * References to remapped keys always bring their parent: its new key exists
 * nowhere yet. Children's groups first, each cyclic group to a fixpoint.
 */
export async function bringParents(db: Queryable, plan: TransferPlan, targetKey: string): Promise<void> {
  for (const group of [...plan.groups].reverse()) {
    const edges = plan.edges.filter((e) => group.tables.includes(e.child));
    const statements = edges.map((e) => {
      const parent = sourceRows(plan, e.parent, { alias: 'p', selection: 'none', maps: false });
      const remapped = e.refColumns.some((c) => parent.mapped(c));
      const inTarget = remapped
        ? ''
        : `WHERE NOT EXISTS (SELECT 1 FROM ${readTarget(plan, e.parent)} b
             WHERE ${e.refColumns.map((c) => `b.${ident(c)} = ${parent.value(c)}`).join(' AND ')})`;
      return bindKey(
        `INSERT INTO ${selTable(plan, e.parent)} (rel, rid, moved)
          SELECT DISTINCT p.tableoid, p.ctid, false FROM ${readSource(plan, e.parent)} p
          JOIN ${readSource(plan, e.child)} c ON ${columnsMatch('c', e.columns, 'p', e.refColumns)}
          JOIN ${selTable(plan, e.child)} k ON ${isStaged('k', 'c')}
          ${inTarget}
          ON CONFLICT (rel, rid) DO NOTHING`,
        targetKey,
      );
    });
    await untilStable(db, group, statements);
  }
}

/** Fresh statistics, so the joins against the staging tables are planned for their real sizes. */
export async function analyzeStaging(db: Queryable, plan: TransferPlan): Promise<void> {
  await db.query(plan.scope.map((t) => `ANALYZE ${selTable(plan, t)}`).join(';\n'));
}

/** Runs a group's statements once, or, for a cyclic group, again until none of them changes a row. */
export async function untilStable(
  db: Queryable,
  group: TableGroup,
  statements: readonly { sql: string; values?: unknown[] }[],
): Promise<void> {
  if (statements.length === 0) return;
  for (;;) {
    let changed = 0;
    for (const s of statements) changed += (await db.query(s.sql, s.values)).rowCount ?? 0;
    if (!group.cyclic || changed === 0) return;
  }
}
