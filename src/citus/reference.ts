import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { citusConfig } from './detect.js';

/**
 * Makes the shared schema's tables Citus reference tables (a copy on every
 * node), so tenant tables in distributed schemas may hold foreign keys to them
 * as on one server. Which tables: the config's "citus.referenceTables" ("all",
 * the default; "none"; or a list of names). Tables already known to Citus are
 * left alone; a table referenced by another goes first (Citus wants the target
 * of a foreign key to be a reference table before the referencing one is).
 * Runs in the caller's transaction (shared migrations, init); one query when
 * nothing is to do. Returns the tables made reference tables.
 */
export async function ensureReferenceTables(db: Queryable, ctx: Context): Promise<string[]> {
  const wanted = citusConfig(ctx).referenceTables;
  if (wanted === 'none') return [];
  const r = await db.query<{ oid: string; name: string; refs: string[] }>(
    `SELECT c.oid::text AS oid, c.relname AS name,
            coalesce((SELECT array_agg(DISTINCT f.confrelid::text) FROM pg_constraint f
                       WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid), '{}') AS refs
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND ($2::text[] IS NULL OR c.relname = ANY($2))
        AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY c.relname`,
    [ctx.config.sharedSchema, wanted === 'all' ? null : wanted],
  );
  const todo = new Map(r.rows.map((row) => [row.oid, row]));
  const made: string[] = [];
  const visit = async (oid: string, seen: Set<string>): Promise<void> => {
    const row = todo.get(oid);
    if (!row || seen.has(oid)) return;
    seen.add(oid);
    for (const ref of row.refs) await visit(ref, seen);
    todo.delete(oid);
    await db.query('SELECT create_reference_table($1::oid::regclass)', [row.oid]);
    // The coordinator's own copy of the rows stays on disk after the table is distributed; drop it.
    await db.query('SELECT truncate_local_data_after_distributing_table($1::oid::regclass)', [row.oid]);
    made.push(row.name);
  };
  for (const oid of [...todo.keys()]) await visit(oid, new Set());
  return made;
}
