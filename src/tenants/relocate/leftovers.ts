import type { Context } from '../../context.js';
import { deleteTenant, readTenantRows } from '../../control/tenants.js';
import { runTransaction, withSession } from '../../db/session.js';
import { dropTenantRole } from '../../roles/grants.js';
import { databaseOid, tenantRoleName } from '../../roles/names.js';
import { ident } from '../../util/quote.js';
import { archivedSchemaName } from '../remove.js';
import { schemaNameFor } from '../provision.js';

/**
 * Whatever the target server holds of this id while the placements map puts
 * the tenant elsewhere is a leftover, no tenant: an interrupted relocation's
 * copy, or the archive an earlier relocation away from this server left. It
 * goes, in one transaction, before a new copy is made: the registry row (any
 * status, its journal with it), the schema and its archived name, the role.
 * The caller holds the tenant's lock and has checked the map does not point here.
 */
export async function clearLeftovers(tctx: Context, id: string): Promise<string[]> {
  const schema = schemaNameFor(tctx.config, id);
  const role = tctx.config.roles ? tenantRoleName(await databaseOid(tctx.pool, tctx), id) : null;
  return withSession(tctx.pool, (client) =>
    runTransaction(client, tctx.config, {}, async () => {
      const found = await client.query<{ what: string }>(
        `SELECT 'schema ' || nspname AS what FROM pg_catalog.pg_namespace WHERE nspname = ANY($1)
         UNION ALL SELECT 'role ' || rolname FROM pg_catalog.pg_roles WHERE rolname = $2`,
        [[schema, archivedSchemaName(schema)], role],
      );
      const what = found.rows.map((r) => r.what);
      if ((await readTenantRows(client, tctx, [id], true)).length > 0) what.push('registry row');
      if (what.length === 0) return [];
      await client.query(`DROP SCHEMA IF EXISTS ${ident(schema)}, ${ident(archivedSchemaName(schema))} CASCADE`);
      await deleteTenant(client, tctx, id);
      if (role) await dropTenantRole(client, role);
      return what;
    }),
  );
}
