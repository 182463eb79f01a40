import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import type { LoadedMigration } from '../migrations/types.js';
import { ident } from '../util/quote.js';

/** Records migrations as applied to a tenant, in the caller's transaction: one statement. */
export async function recordApplied(db: Queryable, ctx: Context, tenantId: string, migrations: readonly LoadedMigration[]): Promise<void> {
  await db.query(
    `INSERT INTO ${ident(ctx.config.controlSchema)}.tenant_migrations (tenant_id, name, checksum)
     SELECT $1, n, c FROM unnest($2::text[], $3::text[]) AS u(n, c)`,
    [tenantId, migrations.map((m) => m.name), migrations.map((m) => m.checksum)],
  );
}

/** Removes rolled-back migrations from a tenant's journal, in the caller's transaction. */
export async function recordReverted(db: Queryable, ctx: Context, tenantId: string, names: readonly string[]): Promise<void> {
  await db.query(`DELETE FROM ${ident(ctx.config.controlSchema)}.tenant_migrations WHERE tenant_id = $1 AND name = ANY($2)`, [tenantId, [...names]]);
}
