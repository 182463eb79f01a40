import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { ident } from '../util/quote.js';

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
}

export interface TenantWithJournal extends TenantRow {
  /** name -> checksum of every applied migration, in the order they ran. */
  journal: { name: string; checksum: string; runOn: Date }[];
}

const COLUMNS = `t.id, t.schema_name AS schema, t.role_name AS role, t.status, t.key, t.name, t.config,
  t.created_at AS "createdAt", t.updated_at AS "updatedAt", t.archived_at AS "archivedAt"`;

export interface TenantFilter {
  ids?: readonly string[];
  status?: TenantStatus;
}

/**
 * Every matching tenant with its journal, in one round trip whatever the fleet
 * size. The journal comes back as one JSON array per tenant.
 */
export async function readTenants(db: Queryable, ctx: Context, filter: TenantFilter = {}): Promise<TenantWithJournal[]> {
  const s = ident(ctx.config.controlSchema);
  const r = await db.query<TenantRow & { journal: { name: string; checksum: string; runOn: string }[] }>(
    `SELECT ${COLUMNS},
       coalesce((SELECT json_agg(json_build_object('name', m.name, 'checksum', m.checksum, 'runOn', m.run_on) ORDER BY m.run_on, m.name)
                 FROM ${s}.tenant_migrations m WHERE m.tenant_id = t.id), '[]'::json) AS journal
     FROM ${s}.tenants t
     WHERE ($1::text[] IS NULL OR t.id = ANY($1)) AND ($2::text IS NULL OR t.status = $2)
     ORDER BY t.id`,
    [filter.ids ? [...filter.ids] : null, filter.status ?? null],
  );
  return r.rows.map((row) => ({ ...row, journal: row.journal.map((j) => ({ ...j, runOn: new Date(j.runOn) })) }));
}

/** Registry rows only (no journal), locked FOR UPDATE when asked. */
export async function readTenantRows(db: Queryable, ctx: Context, ids: readonly string[], forUpdate = false): Promise<TenantRow[]> {
  const r = await db.query<TenantRow>(
    `SELECT ${COLUMNS} FROM ${ident(ctx.config.controlSchema)}.tenants t WHERE t.id = ANY($1) ORDER BY t.id${forUpdate ? ' FOR UPDATE' : ''}`,
    [[...ids]],
  );
  return r.rows;
}
