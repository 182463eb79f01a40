import type { Queryable } from '../db/types.js';
import { qualified } from '../util/quote.js';

/**
 * What a move holds still: every table of the source tenant, in EXCLUSIVE mode,
 * taken as the first statement of its transaction, before the snapshot. The
 * application can still read them; its writes to them (INSERT, UPDATE, DELETE,
 * SELECT ... FOR UPDATE/SHARE, and foreign-key checks that lock their rows) wait
 * until the move commits or rolls back, so no row the move reads can change
 * under it. Other tenants, and the target, are not held.
 */
export async function holdSourceSql(db: Queryable, schema: string): Promise<string | undefined> {
  const r = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname`,
    [schema],
  );
  if (r.rows.length === 0) return undefined;
  // LOCK takes no snapshot: in a REPEATABLE READ transaction the snapshot comes after it.
  return `LOCK TABLE ${r.rows.map((t) => qualified(schema, t.name)).join(', ')} IN EXCLUSIVE MODE`;
}
