import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import type { JournalEntry } from '../migrations/plan.js';
import type { LoadedMigration } from '../migrations/types.js';
import { literal } from '../util/quote.js';
import { controlTable } from './table.js';

/**
 * The journals: which migrations each tenant, and the shared schema, have
 * applied. Writes run in the caller's transaction. The *Sql forms inline
 * validated values as literals, so they can travel in one message with other
 * statements (the fleet's COMMIT message).
 */

/** Records migrations as applied to a tenant, in the caller's transaction: one statement. */
export async function recordApplied(db: Queryable, ctx: Context, tenantId: string, migrations: readonly LoadedMigration[]): Promise<void> {
  await db.query(recordAppliedSql(ctx, tenantId, migrations));
}

export function recordAppliedSql(ctx: Pick<Context, 'config'>, tenantId: string, migrations: readonly LoadedMigration[]): string {
  if (migrations.length === 0) return '';
  const values = migrations.map((m) => `(${literal(m.name)}, ${literal(m.checksum)})`).join(', ');
  // A tenant without a registry row has no journal id: NULL, refused by the NOT NULL column.
  return `INSERT INTO ${controlTable(ctx.config, 'tenant_migrations')} (tenant_id, name, checksum)
    SELECT (${journalIdSql(ctx, tenantId)}), v.name, v.checksum FROM (VALUES ${values}) v (name, checksum)`;
}

/** Removes rolled-back migrations from a tenant's journal, in the caller's transaction. */
export function recordRevertedSql(ctx: Pick<Context, 'config'>, tenantId: string, names: readonly string[]): string {
  if (names.length === 0) return '';
  return `DELETE FROM ${controlTable(ctx.config, 'tenant_migrations')} WHERE tenant_id = (${journalIdSql(ctx, tenantId)}) AND name IN (${names.map(literal).join(', ')})`;
}

/**
 * The key of a tenant's journal rows (tenant_migrations.tenant_id): the tenant's
 * journal_id, which is its id unless it was a spare of the pool (then the
 * spare's id, kept when it took the new id). For writes: the registry row's.
 */
function journalIdSql(ctx: Pick<Context, 'config'>, tenantId: string): string {
  return `SELECT t.journal_id FROM ${controlTable(ctx.config, 'tenants')} t WHERE t.id = ${literal(tenantId)}`;
}

/**
 * For reads: the journal key of the tenant row aliased `alias` (fixed text, a
 * column alias of the caller's). A control schema before version 4 has no
 * journal_id and keys the journal by the id itself.
 */
export function journalKeySql(alias: string): string {
  return `coalesce(to_jsonb(${alias}) ->> 'journal_id', ${alias}.id)`;
}

/**
 * The one reader of a tenant's journal: a JSON array of {name, checksum, runOn}
 * in the order the migrations ran, for the tenant row aliased `alias`.
 */
export function tenantJournalSql(ctx: Pick<Context, 'config'>, alias: string): string {
  return `coalesce((SELECT json_agg(json_build_object('name', m.name, 'checksum', m.checksum, 'runOn', m.run_on) ORDER BY m.run_on, m.name)
    FROM ${controlTable(ctx.config, 'tenant_migrations')} m WHERE m.tenant_id = ${journalKeySql(alias)}), '[]'::json)`;
}

/**
 * One tenant's status, schema and journal, read under its lock (another run may
 * have finished it meanwhile). A SELECT for the prelude of the tenant's
 * transaction: columns tc_status, tc_schema, tc_key, tc_journal; no row when the
 * tenant is gone.
 */
export function tenantStateSql(ctx: Pick<Context, 'config'>, tenantId: string): string {
  return `SELECT t.status AS tc_status, t.schema_name AS tc_schema, t.key AS tc_key, t.name AS tc_name,
     ${tenantJournalSql(ctx, 't')} AS tc_journal
   FROM ${controlTable(ctx.config, 'tenants')} t WHERE t.id = ${literal(tenantId)}`;
}

export interface TenantState {
  status: string;
  schema: string;
  key: string;
  name: string | null;
  journal: JournalEntry[];
}

export function parseTenantState(row: Record<string, unknown> | undefined): TenantState | undefined {
  if (!row) return undefined;
  return {
    status: row.tc_status as string,
    schema: row.tc_schema as string,
    key: row.tc_key as string,
    name: (row.tc_name as string | null) ?? null,
    journal: row.tc_journal as JournalEntry[],
  };
}

/** The shared schema's journal, in the order it ran. */
export async function readSharedJournal(db: Queryable, ctx: Pick<Context, 'config'>): Promise<JournalEntry[]> {
  const r = await db.query<JournalEntry>(
    `SELECT name, checksum FROM ${controlTable(ctx.config, 'shared_migrations')} ORDER BY run_on, name`,
  );
  return r.rows;
}

export async function recordShared(db: Queryable, ctx: Pick<Context, 'config'>, migrations: readonly LoadedMigration[]): Promise<void> {
  await db.query(
    `INSERT INTO ${controlTable(ctx.config, 'shared_migrations')} (name, checksum) SELECT * FROM unnest($1::text[], $2::text[])`,
    [migrations.map((m) => m.name), migrations.map((m) => m.checksum)],
  );
}
