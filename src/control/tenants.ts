import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { literal } from '../util/quote.js';
import { controlTable } from './table.js';
import { tenantJournalSql } from './journal.js';
import { placedElsewhereSql } from './placements.js';

export type TenantStatus = 'active' | 'suspended' | 'archived';

/** A registry row together with the names of its applied migrations. */
export interface TenantRow {
  id: string;
  schema: string;
  role: string | null;
  status: TenantStatus;
  key: string;
  name: string | null;
  config: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
  archivedAt: Date | null;
  /** A spare tenant of the pool: hidden from list and show until `tenant create` takes it. */
  pooled: boolean;
  /** The server it lives on: "default" (the home server) or a name from the config's `servers`. */
  server: string;
}

export interface TenantWithJournal extends TenantRow {
  /** name -> checksum of every applied migration, in the order they ran. */
  journal: { name: string; checksum: string; runOn: Date }[];
}

/** The registry's columns as TenantRow names them, for the alias t: fixed text, nothing from input. */
const FIXED_COLUMNS_SQL = `t.id, t.schema_name AS schema, t.role_name AS role, t.status, t.key, t.name, t.config,
  t.created_at AS "createdAt", t.updated_at AS "updatedAt", t.archived_at AS "archivedAt",
  coalesce((to_jsonb(t) ->> 'pooled')::boolean, false) AS pooled`;

export interface TenantFilter {
  ids?: readonly string[];
  status?: TenantStatus;
  /** false: the registry rows without reading the journal (each tenant's `journal` is then empty), for a caller that never looks at it. */
  journal?: boolean;
}

/**
 * Every matching tenant with its journal, in one round trip whatever the fleet
 * size. The journal comes back as one JSON array per tenant.
 */
export async function readTenants(
  db: Queryable,
  ctx: Pick<Context, 'config'> & Partial<Pick<Context, 'server'>>,
  filter: TenantFilter = {},
): Promise<TenantWithJournal[]> {
  const r = await db.query<TenantRow & { journal: { name: string; checksum: string; runOn: string }[] }>(
    `SELECT ${FIXED_COLUMNS_SQL},
       ${filter.journal === false ? `'[]'::json` : tenantJournalSql(ctx, 't')} AS journal
     FROM ${controlTable(ctx.config, 'tenants')} t
     WHERE ($1::text[] IS NULL OR t.id = ANY($1)) AND ($2::text IS NULL OR t.status = $2)
     ORDER BY t.id`,
    [filter.ids ? [...filter.ids] : null, filter.status ?? null],
  );
  const server = ctx.server ?? 'default';
  return r.rows.map((row) => ({ ...row, server, journal: row.journal.map((j) => ({ ...j, runOn: new Date(j.runOn) })) }));
}

/** Registry rows only (no journal), locked FOR UPDATE when asked. */
export async function readTenantRows(
  db: Queryable,
  ctx: Pick<Context, 'config'> & Partial<Pick<Context, 'server'>>,
  ids: readonly string[],
  forUpdate = false,
): Promise<TenantRow[]> {
  const r = await db.query<TenantRow>(
    `SELECT ${FIXED_COLUMNS_SQL} FROM ${controlTable(ctx.config, 'tenants')} t WHERE t.id = ANY($1) ORDER BY t.id${forUpdate ? ' FOR UPDATE' : '' /* fixed text */}`,
    [[...ids]],
  );
  const server = ctx.server ?? 'default';
  return r.rows.map((row) => ({ ...row, server }));
}

/** A new tenant's registry row. */
export interface NewTenant {
  id: string;
  schema: string;
  role: string | null;
  key: string;
  name: string | null;
  /** Its config, or the id of a tenant whose config it takes (clone). */
  config: Record<string, unknown> | { from: string };
  /** A spare tenant for the pool. */
  pooled?: boolean;
}

/**
 * Inserts a registry row; no row comes back when the id is taken. SQL text with
 * literals, for the prelude of the creating transaction (column tc_inserted).
 */
export function insertTenantSql(ctx: Pick<Context, 'config'>, t: NewTenant): string {
  // Every value below is a literal() or NULL; the table is controlTable()'s quoted name.
  const configSql =
    'from' in t.config && typeof t.config.from === 'string'
      ? `(SELECT config FROM ${controlTable(ctx.config, 'tenants')} WHERE id = ${literal(t.config.from)})`
      : `${literal(JSON.stringify(t.config))}::jsonb`;
  // An id the placements map gives to another server is taken here too.
  // The journal is keyed by the id the tenant is registered with (journal_id, see ddl.ts version 4).
  return `INSERT INTO ${controlTable(ctx.config, 'tenants')} (id, journal_id, schema_name, role_name, key, name, config${t.pooled ? ', pooled' : ''})
    SELECT ${literal(t.id)}, ${literal(t.id)}, ${literal(t.schema)}, ${nullable(t.role)}, ${literal(t.key)}, ${nullable(t.name)}, ${configSql}${t.pooled ? ', true' : ''}
    WHERE NOT ${placedElsewhereSql(ctx, { id: t.id })}
    ON CONFLICT (id) DO NOTHING RETURNING id AS tc_inserted`;
}

export interface Clash {
  id: string;
  registered: boolean;
  schemaTaken: boolean;
  keyOwner: string | null;
}

/**
 * Which of these ids are registered, which schemas exist, which keys other
 * tenants hold: one row per wanted id, in order (column n), for the ids,
 * schemas and keys bound as $1, $2 and $3 (clashParams).
 */
export function clashesSql(ctx: Pick<Context, 'config'>): string {
  const table = controlTable(ctx.config, 'tenants');
  const placements = controlTable(ctx.config, 'placements');
  // On the home server, the placements map holds the ids and keys of the tenants on other servers. An id is also
  // taken while it keys a journal: a tenant made from a spare keeps the spare's id there (journal_id).
  return `SELECT i.id, i.n,
       (EXISTS (SELECT 1 FROM ${table} t WHERE t.id = i.id OR t.journal_id = i.id) OR EXISTS (SELECT 1 FROM ${placements} p WHERE p.tenant_id = i.id)) AS registered,
       EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = i.schema) AS "schemaTaken",
       (SELECT k.id FROM (SELECT t.id, t.key FROM ${table} t UNION ALL SELECT p.tenant_id, p.tenant_key FROM ${placements} p) k
         WHERE k.key = i.key AND k.id <> i.id ORDER BY k.id LIMIT 1) AS "keyOwner"
     FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS i(id, schema, key, n)`;
}

/** clashesSql's parameters. */
export function clashParams(wanted: readonly { id: string; schema: string; key: string }[]): string[][] {
  return [wanted.map((w) => w.id), wanted.map((w) => w.schema), wanted.map((w) => w.key)];
}

/** The clash check (clashesSql) on its own: one query. */
export async function findClashes(
  db: Queryable,
  ctx: Pick<Context, 'config'>,
  wanted: readonly { id: string; schema: string; key: string }[],
): Promise<Clash[]> {
  const r = await db.query<Clash>(`${clashesSql(ctx)} ORDER BY i.n`, clashParams(wanted));
  return r.rows;
}

/** Changes name, status and config of a tenant that is not archived; false when there is none. */
export async function updateTenantFields(
  db: Queryable,
  ctx: Pick<Context, 'config'>,
  id: string,
  change: { name?: string; status?: string; set?: Record<string, string>; unset?: readonly string[] },
): Promise<boolean> {
  const r = await db.query(
    `UPDATE ${controlTable(ctx.config, 'tenants')}
     SET name = coalesce($2, name), status = coalesce($3, status),
         config = (config || $4::jsonb) - $5::text[], updated_at = now()
     WHERE id = $1 AND status <> 'archived'`,
    [id, change.name ?? null, change.status ?? null, JSON.stringify(change.set ?? {}), [...(change.unset ?? [])]],
  );
  return r.rowCount === 1;
}

/** Marks a tenant archived, its data now in `archivedSchema`. */
export async function markArchived(db: Queryable, ctx: Pick<Context, 'config'>, id: string, archivedSchema: string): Promise<void> {
  await db.query(
    `UPDATE ${controlTable(ctx.config, 'tenants')} SET status = 'archived', schema_name = $2, archived_at = now(), updated_at = now() WHERE id = $1`,
    [id, archivedSchema],
  );
}

/** Marks an archived tenant active again, in `schema`. */
export async function markRestored(db: Queryable, ctx: Pick<Context, 'config'>, id: string, schema: string): Promise<void> {
  await db.query(
    `UPDATE ${controlTable(ctx.config, 'tenants')} SET status = 'active', schema_name = $2, archived_at = NULL, updated_at = now() WHERE id = $1`,
    [id, schema],
  );
}

/** Removes a registry row (its journal goes with it). */
export async function deleteTenant(db: Queryable, ctx: Pick<Context, 'config'>, id: string): Promise<void> {
  await db.query(`DELETE FROM ${controlTable(ctx.config, 'tenants')} WHERE id = $1`, [id]); // controlTable() quotes the name; the id is bound
}

/**
 * For withTenant: the tenant's search_path, role and key settings for this
 * transaction, in one statement; one row when the tenant exists with one of
 * `statuses`, none otherwise. Values inlined as literals, so it can follow
 * BEGIN in one message.
 */
export function enterTenantSql(
  ctx: Pick<Context, 'config'> | { controlSchema: string; sharedSchema: string },
  id: string,
  statuses: readonly string[],
): string {
  const config = 'config' in ctx ? ctx.config : ctx;
  return `SELECT set_config('search_path', quote_ident(t.schema_name) || ', ' || quote_ident(${literal(config.sharedSchema)}) || ', pg_temp', true),
      set_config('tenantctl.tenant_id', t.id, true),
      set_config('tenantctl.tenant_key', t.key, true),
      set_config('role', coalesce(t.role_name, 'none'), true)
    FROM ${controlTable(config, 'tenants')} t WHERE t.id = ${literal(id)} AND t.status IN (${statuses.map(literal).join(', ')})`;
}

function nullable(value: string | null): string {
  return value === null ? 'NULL' : literal(value);
}
