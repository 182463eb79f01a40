import { InputError, tenantLocked } from '../errors.js';
import { ensureControlSchema } from '../control/ensure.js';
import { logOperationSql } from '../control/oplog.js';
import { markRestored, readTenantRows } from '../control/tenants.js';
import { countRows, totalRows } from './row-counts.js';
import { inTransaction, withSession } from '../db/session.js';
import { grantTenantAccess } from '../roles/grants.js';
import { databaseOid, sharedRoleName } from '../roles/names.js';
import { ident } from '../util/quote.js';
import type { Context } from '../context.js';
import { findTenants } from '../runtime/lookup.js';
import { contextOf } from '../runtime/route.js';
import { citusOf } from '../citus/detect.js';

export interface RestoreResult {
  id: string;
  schema: string;
  rows: Record<string, number>;
  totalRows: number;
}

/** Undoes an archive: the schema gets its name back, the role its access, the tenant its status. */
export async function restoreTenant(ctx: Context, id: string): Promise<RestoreResult> {
  const [t] = await findTenants(ctx, [id]);
  if (t!.status !== 'archived')
    throw new InputError('tenant_not_archived', `tenant "${id}" is ${t!.status}, not archived; nothing to restore`);
  // On the tenant's own server (the placements map), where its registry row and archived schema are.
  ctx = contextOf(ctx, t!);
  await ensureControlSchema(ctx);
  const citus = await citusOf(ctx);
  // The name it had before the archive, whatever the prefix is now.
  const schema = t!.schema.replace(/\$archived$/, '');
  const outcome = await withSession(ctx.pool, (client) =>
    inTransaction(client, ctx.config, { lock: { ids: [id] } }, async (tx) => {
      const [row] = await readTenantRows(client, ctx, [id], true);
      if (!row || row.status !== 'archived') throw new InputError('tenant_not_archived', `tenant "${id}" is no longer archived`);
      const taken = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      if (taken.rowCount) throw new InputError('schema_exists', `schema "${schema}" exists; rename or drop it, then restore "${id}"`);
      await client.query(`ALTER SCHEMA ${ident(row.schema)} RENAME TO ${ident(schema)}`);
      if (row.role)
        await grantTenantAccess(client, schema, row.role, sharedRoleName(await databaseOid(client, ctx)), { login: citus !== null });
      await markRestored(client, ctx, id, schema);
      const rows = await countRows(client, schema);
      tx.last(logOperationSql(ctx, 'restore', id, { schema, archivedSchema: row.schema, rows, totalRows: totalRows(rows) }));
      return { id, schema, rows, totalRows: totalRows(rows) };
    }),
  );
  if (outcome.locked) throw tenantLocked(id);
  return outcome.value;
}
