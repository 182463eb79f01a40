import type { Queryable } from '../db/types.js';
import { readSource, selTable, type TransferPlan } from './plan.js';

export interface StagedCount {
  /** Selected or carried along as dependents. */
  moved: number;
  /** Brought along as parents. */
  parents: number;
  /** Not written (skip). */
  kept: number;
  /** Parents written (not kept). */
  parentsWritten: number;
  /** To delete from the source (move). */
  del: number;
}

/** Per table: what the staging tables hold. One query. */
export async function stagedCounts(db: Queryable, plan: TransferPlan): Promise<Map<string, StagedCount>> {
  if (plan.scope.length === 0) return new Map();
  const sql = plan.scope
    .map(
      (t, i) => `SELECT ${i} AS i, count(*) FILTER (WHERE moved)::int AS moved, count(*) FILTER (WHERE NOT moved)::int AS parents,
        count(*) FILTER (WHERE keep)::int AS kept, count(*) FILTER (WHERE NOT moved AND NOT keep)::int AS "parentsWritten",
        count(*) FILTER (WHERE del)::int AS del FROM ${selTable(plan, t)}`,
    )
    .join('\nUNION ALL\n');
  const r = await db.query<StagedCount & { i: number }>(sql);
  return new Map(r.rows.map((row) => [plan.scope[row.i]!, row]));
}

/** Per table: every row of the source (a whole-tenant plan). One query. */
export async function sourceCounts(db: Queryable, plan: TransferPlan): Promise<Map<string, number>> {
  if (plan.scope.length === 0) return new Map();
  const sql = plan.scope.map((t, i) => `SELECT ${i} AS i, count(*)::int AS n FROM ${readSource(plan, t)}`).join('\nUNION ALL\n');
  const r = await db.query<{ i: number; n: number }>(sql);
  return new Map(r.rows.map((row) => [plan.scope[row.i]!, row.n]));
}
