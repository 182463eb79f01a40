import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { toTenantctlError } from '../errors.js';
import type { JournalEntry } from '../migrations/plan.js';
import { SQLSTATE, sqlstateOf } from '../sqlstate.js';
import { controlTable } from './table.js';
import { clashesSql, clashParams, type Clash } from './tenants.js';

/**
 * What `tenant create` reads before it makes anything, in one statement: the
 * control schema's version, the clash check of the new ids (clashesSql), the
 * shared schema's journal, and whether the shared role exists. Reads only: no
 * lock is taken beyond the catalog's and the tables' ACCESS SHARE.
 */
export interface CreateChecks {
  version: number;
  /** One per wanted id, in order. */
  clashes: Clash[];
  sharedJournal: JournalEntry[];
  /** False when roles are on and the shared role is missing; true otherwise. */
  sharedRole: boolean;
}

/**
 * The checks, or undefined when the control schema is missing or older than the
 * tables they read (the caller makes or upgrades it, then reads again).
 */
export async function readCreateChecks(
  db: Queryable,
  ctx: Pick<Context, 'config'>,
  wanted: readonly { id: string; schema: string; key: string }[],
  sharedRole: string | null,
): Promise<CreateChecks | undefined> {
  const sql = `WITH clash AS (${clashesSql(ctx)})
    SELECT (SELECT value FROM ${controlTable(ctx.config, 'meta')} WHERE key = 'schema_version') AS version,
      (SELECT coalesce(json_agg(json_build_object('id', c.id, 'registered', c.registered, 'schemaTaken', c."schemaTaken",
          'keyOwner', c."keyOwner") ORDER BY c.n), '[]'::json) FROM clash c) AS clashes,
      (SELECT coalesce(json_agg(json_build_object('name', s.name, 'checksum', s.checksum) ORDER BY s.run_on, s.name), '[]'::json)
         FROM ${controlTable(ctx.config, 'shared_migrations')} s) AS shared,
      ($4::text IS NULL OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = $4)) AS shared_role`;
  try {
    const r = await db.query<{ version: string | null; clashes: Clash[]; shared: JournalEntry[]; shared_role: boolean }>(sql, [
      ...clashParams(wanted),
      sharedRole,
    ]);
    const row = r.rows[0]!;
    return { version: Number(row.version ?? 0), clashes: row.clashes, sharedJournal: row.shared, sharedRole: row.shared_role };
  } catch (err) {
    const code = sqlstateOf(err);
    if (code === SQLSTATE.UNDEFINED_TABLE || code === SQLSTATE.UNDEFINED_SCHEMA) return undefined;
    throw toTenantctlError(err);
  }
}
