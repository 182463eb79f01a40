// The reference structure: the tenant migrations replayed on a scratch schema, always rolled back.
import { randomBytes } from 'node:crypto';
import type { Context } from '../../../context.js';
import type { Queryable } from '../../../db/types.js';
import { runMigrationActions } from '../../../migrations/builder.js';
import { asTenant, runTransaction } from '../../../db/session.js';
import { CATALOG_SESSION_SETTINGS } from '../../catalog-session.js';
import type { LoadedMigration } from '../../../migrations/types.js';
import { ident } from '../../../util/quote.js';
import { SqlParams } from '../../fleet-sql.js';
import type { Entry } from './snapshot.js';
import { digestOf, entriesSql, INDEX_SHAPE } from './structure-sql.js';

export interface Reference {
  digest: string | null;
  entries: Entry[];
}

/**
 * The structure the migrations produce: they are applied to a scratch schema
 * (a name no tenant can have: it holds a $) inside a transaction that is
 * always rolled back, so nothing is left behind, whatever happens. The shared
 * schema is second on the search_path, as for a tenant (with the configured timeouts); the structure is read
 * with search_path = pg_catalog, as the tenants' is.
 */
export async function buildReference(ctx: Context, client: Queryable, files: readonly LoadedMigration[]): Promise<Reference> {
  const scratch = `tenantctl$verify_${randomBytes(6).toString('hex')}`;
  try {
    return await runTransaction(client, ctx.config, {}, async (tx) => {
      tx.rollbackOnly();
      await client.query(`CREATE SCHEMA ${ident(scratch)}`);
      await asTenant(client, ctx.config, { schema: scratch });
      await runMigrationActions(client, files, 'up', ctx.log, { inlineNonTransactional: true });
      const set = await client.query<{ server_version: number }>(
        `SELECT set_config('search_path', 'pg_catalog', true), current_setting('server_version_num')::int AS server_version`,
      );
      const p = new SqlParams();
      const oids = `ARRAY[${p.add(ident(scratch), 'regnamespace')}::oid]`;
      // One read of the scratch schema: its entries, and its indexes in the digest's form, from which the digest is computed here.
      const e = await client.query<Entry>(entriesSql(oids, { serverVersion: set.rows[0]!.server_version }), p.values);
      const rows = e.rows.map(({ kind, name, def }) => ({ kind, name, def }));
      return { digest: digestOf(rows), entries: rows.filter((r) => r.kind !== INDEX_SHAPE) };
    });
  } finally {
    // The transaction's end reset the session (whatever the migrations set is gone): the catalog session's settings come back.
    await client.query(CATALOG_SESSION_SETTINGS);
  }
}
