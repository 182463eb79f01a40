import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { literal } from '../util/quote.js';
import { controlTable } from './table.js';

export type Operation = 'create' | 'archive' | 'restore' | 'purge' | 'update' | 'copy' | 'move' | 'clone' | 'import' | 'relocate';

/** Appends one entry to the operations log, in the caller's transaction. */
export async function logOperation(
  db: Queryable,
  ctx: Pick<Context, 'config' | 'actor'>,
  operation: Operation,
  tenantId: string | null,
  detail: Record<string, unknown> = {},
): Promise<void> {
  await db.query(logOperationSql(ctx, operation, tenantId, detail));
}

/** The same entry as SQL text (values inlined as literals), to send with other statements. */
export function logOperationSql(
  ctx: Pick<Context, 'config' | 'actor'>,
  operation: Operation,
  tenantId: string | null,
  detail: Record<string, unknown> = {},
): string {
  return `INSERT INTO ${controlTable(ctx.config, 'operations')} (actor, operation, tenant_id, detail)
     VALUES (${literal(ctx.actor)} || '@' || current_user, ${literal(operation)}, ${tenantId === null ? 'NULL' : literal(tenantId)}, ${literal(JSON.stringify(detail))}::jsonb)`;
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
    `SELECT id::int, at, actor, operation, tenant_id AS "tenantId", detail FROM ${controlTable(ctx.config, 'operations')}
     WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY id`,
    [tenantId ?? null],
  );
  return r.rows;
}

/** Which of these ids the operations log shows as purged (their registry row is gone for a reason). */
export async function purgedIds(db: Queryable, ctx: Pick<Context, 'config'>, ids: readonly string[]): Promise<Set<string>> {
  const r = await db.query<{ id: string }>(
    `SELECT DISTINCT tenant_id AS id FROM ${controlTable(ctx.config, 'operations')} WHERE operation = 'purge' AND tenant_id = ANY($1)`,
    [[...ids]],
  );
  return new Set(r.rows.map((row) => row.id));
}

/** An archived copy a relocation left on the server a tenant moved from (the `relocate` entries of the home server's log). */
export interface RelocatedCopy {
  id: string;
  /** The server the tenant left. */
  server: string;
  /** The schema its copy there was renamed to. */
  archivedSchema: string;
}

/** The archived copies these ids' relocations left behind, as the operations log records them: one query. */
export async function relocatedCopies(db: Queryable, ctx: Pick<Context, 'config'>, ids: readonly string[]): Promise<RelocatedCopy[]> {
  const r = await db.query<RelocatedCopy>(
    `SELECT DISTINCT tenant_id AS id, detail ->> 'from' AS server, detail ->> 'archivedSchema' AS "archivedSchema"
     FROM ${controlTable(ctx.config, 'operations')}
     WHERE operation = $2 AND tenant_id = ANY($1) AND detail ? 'from' AND detail ->> 'archivedSchema' IS NOT NULL
     ORDER BY 1, 2`,
    [[...ids], 'relocate'],
  );
  return r.rows;
}
