import type { Queryable } from '../db/types.js';
import { qualified } from '../util/quote.js';

/** Exact row counts of every table in a schema (partitioned tables once, not per partition): two round trips. */
export async function countRows(db: Queryable, schema: string): Promise<Record<string, number>> {
  const tables = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname`,
    [schema],
  );
  if (tables.rows.length === 0) return {};
  const names = tables.rows.map((t) => t.name);
  const union = names
    .map((name, i) => `SELECT $${i + 1}::text AS name, count(*)::bigint AS n FROM ${qualified(schema, name)}`)
    .join(' UNION ALL ');
  const counts = await db.query<{ name: string; n: string }>(union, names);
  return Object.fromEntries(counts.rows.map((r) => [r.name, Number(r.n)]));
}

export function totalRows(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
