import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { ident } from '../util/quote.js';

export type Operation = 'create' | 'archive' | 'restore' | 'purge' | 'update' | 'migrate' | 'rollback' | 'copy' | 'move' | 'clone';

/** Appends one entry to the operations log, in the caller's transaction. */
export async function logOperation(
  db: Queryable,
  ctx: Context,
  operation: Operation,
  tenantId: string | null,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await db.query(
    `INSERT INTO ${ident(ctx.config.controlSchema)}.operations (actor, operation, tenant_id, detail)
     VALUES ($1 || '@' || current_user, $2, $3, $4)`,
    [ctx.actor, operation, tenantId, JSON.stringify(detail)],
  );
}

export interface OperationEntry {
  id: number;
  at: Date;
  actor: string;
  operation: Operation;
  tenantId: string | null;
  detail: Record<string, unknown>;
}

/** The operations log, oldest first; one tenant's entries when an id is given. */
export async function readOperations(ctx: Context, tenantId?: string): Promise<OperationEntry[]> {
  const r = await ctx.pool.query<OperationEntry>(
    `SELECT id::int, at, actor, operation, tenant_id AS "tenantId", detail FROM ${ident(ctx.config.controlSchema)}.operations
     WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY id`,
    [tenantId ?? null],
  );
  return r.rows;
}
