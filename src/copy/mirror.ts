import type { Queryable } from '../db/types.js';
import { ident, qualified } from '../util/quote.js';
import { citusCycleUnsupported } from '../citus/refusals.js';
import { readSource, readTarget, type TransferPlan } from './plan.js';

/**
 * On a Citus coordinator each tenant is a distributed schema of its own
 * colocation group, and Citus cannot plan one statement over the tables of two
 * of them and the run's temporary tables ("cannot push down this subquery").
 * So the run first reads, once and in its snapshot, each table of the plan into
 * a temporary table on the coordinator: the source's rows (all columns, and
 * `tc_ctid`, the row's position on its worker) and the target's key columns
 * (its unique keys and the columns foreign keys reference). Every statement
 * that selects, marks or checks rows then reads only these local copies, with
 * the same SQL as on one server; only the INSERTs into the target (Citus pulls
 * a local SELECT to the coordinator and sends the rows on) and the move's
 * DELETEs touch the tenants' tables, each one table of one tenant.
 */
export async function createMirrors(db: Queryable, plan: TransferPlan, operation: 'copy' | 'move'): Promise<void> {
  if (!plan.mirrored || plan.scope.length === 0) return;
  const cycles = plan.groups.filter((g) => g.tables.length > 1).map((g) => g.tables);
  if (cycles.length > 0) throw citusCycleUnsupported(operation, cycles);
  const statements = plan.scope.flatMap((table) => [
    `CREATE TEMP TABLE ${bare(readSource(plan, table))} ON COMMIT DROP AS SELECT ctid AS tc_ctid, * FROM ${qualified(plan.source.schema, table)}`,
    `CREATE TEMP TABLE ${bare(readTarget(plan, table))} ON COMMIT DROP AS SELECT ${targetColumns(plan, table).map(ident).join(', ')} FROM ${qualified(plan.target.schema, table)}`,
  ]);
  for (const sql of statements) await db.query(sql);
  await db.query(plan.scope.flatMap((t) => [`ANALYZE ${readSource(plan, t)}`, `ANALYZE ${readTarget(plan, t)}`]).join(';\n'));
}

/** The target's columns the checks compare: every unique key's, and those the plan's foreign keys reference. */
function targetColumns(plan: TransferPlan, table: string): string[] {
  const keys = plan.target.tables.get(table)!.keys.flatMap((k) => k.columns);
  const referenced = plan.edges.filter((e) => e.parent === table).flatMap((e) => e.refColumns);
  return [...new Set([...keys, ...referenced])];
}

/** CREATE TEMP TABLE takes the name without pg_temp. */
function bare(name: string): string {
  return name.replace('pg_temp.', '');
}
