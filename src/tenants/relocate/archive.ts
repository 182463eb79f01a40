import type { Context } from '../../context.js';
import { deleteTenant, markArchived } from '../../control/tenants.js';
import type { Queryable } from '../../db/types.js';
import { dropTenantRole, revokeTenantAccess } from '../../roles/grants.js';
import { databaseOid, sharedRoleName } from '../../roles/names.js';
import { ident, literal, qualified } from '../../util/quote.js';
import { archivedSchemaName } from '../remove.js';

/**
 * The source's copy once the tenant lives elsewhere, in the source's freeze
 * transaction: every table gets a trigger that refuses writes with "tenant X
 * moved to server T" (a writer that waited on the freeze holds the table's
 * oid across the rename, and must fail loudly, not write into the archive),
 * the schema takes its archived name, the tenant role loses its access, the
 * registry row is marked archived. Nothing is dropped.
 */
export const MOVED_FUNCTION = 'tenantctl_relocated';

export async function archiveSource(
  db: Queryable,
  sctx: Context,
  source: { id: string; schema: string; role: string | null },
  to: string,
  tables: { writable: readonly string[]; truncatable: readonly string[] },
): Promise<string> {
  const archived = archivedSchemaName(source.schema);
  const fn = qualified(source.schema, MOVED_FUNCTION);
  const message = literal(`tenant "${source.id}" moved to server "${to}"; reconnect through the placements map`);
  const parts = [
    `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $tc$ BEGIN RAISE EXCEPTION USING ERRCODE = 'read_only_sql_transaction', MESSAGE = ${message}; END $tc$`,
    ...tables.writable.map(
      (t) =>
        `CREATE TRIGGER ${ident(MOVED_FUNCTION)} BEFORE INSERT OR UPDATE OR DELETE ON ${qualified(source.schema, t)} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
    ),
    ...tables.truncatable.map(
      (t) =>
        `CREATE TRIGGER ${ident(`${MOVED_FUNCTION}_truncate`)} BEFORE TRUNCATE ON ${qualified(source.schema, t)} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
    ),
    `ALTER SCHEMA ${ident(source.schema)} RENAME TO ${ident(archived)}`,
  ];
  await db.query(parts.join(';\n'));
  if (source.role) await revokeTenantAccess(db, archived, source.role, sharedRoleName(await databaseOid(db, sctx)));
  await markArchived(db, sctx, source.id, archived);
  return archived;
}

/** --purge-source: the archived copy, its role and its registry row (with its journal) go. */
export async function purgeArchivedSource(
  db: Queryable,
  sctx: Context,
  source: { id: string; archived: string; role: string | null },
): Promise<void> {
  await db.query(`DROP SCHEMA IF EXISTS ${ident(source.archived)} CASCADE`);
  if (source.role) await dropTenantRole(db, source.role);
  await deleteTenant(db, sctx, source.id);
}
