import type { CitusMeta, Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { controlTable } from './table.js';

export type { CitusMeta };

/** The meta row init writes when the connected database is a Citus coordinator (key "citus"), or removes when it is not. */
export async function recordCitus(db: Queryable, ctx: Pick<Context, 'config'>, meta: CitusMeta | null): Promise<void> {
  if (meta === null) {
    await db.query(`DELETE FROM ${controlTable(ctx.config, 'meta')} WHERE key = 'citus'`); // controlTable() quotes the name
    return;
  }
  // The conflicting row is EXCLUDED's twin: compared through the target's alias, so the table is named once.
  await db.query(
    `INSERT INTO ${controlTable(ctx.config, 'meta')} AS m (key, value) VALUES ('citus', $1)
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value WHERE m.value IS DISTINCT FROM EXCLUDED.value`,
    [JSON.stringify(meta)],
  );
}

/** The recorded Citus meta, null when init found no Citus (or the control schema lacks it). */
export async function readCitus(db: Queryable, ctx: Pick<Context, 'config'>): Promise<CitusMeta | null> {
  const r = await db.query<{ value: string }>(`SELECT value FROM ${controlTable(ctx.config, 'meta')} WHERE key = 'citus'`);
  const value = r.rows[0]?.value;
  return value === undefined ? null : (JSON.parse(value) as CitusMeta);
}
