import { randomBytes } from 'node:crypto';
import type { Context } from '../../context.js';
import { runMigrationActions } from '../../migrations/builder.js';
import { asTenant, runTransaction, withSession } from '../../db/session.js';
import type { LoadedMigration } from '../../migrations/types.js';
import { ident } from '../../util/quote.js';
import type { Entry } from './snapshot.js';
import { digestsSql, entriesSql } from './structure-sql.js';

export interface Reference {
  digest: string | null;
  entries: Entry[];
}

const SCRATCH = `SELECT oid, nspname FROM pg_namespace WHERE nspname = $1`;

/**
 * The structure the migrations produce: they are applied to a scratch schema
 * (a name no tenant can have: it holds a $) inside a transaction that is
 * always rolled back, so nothing is left behind, whatever happens. The shared
 * schema is second on the search_path, as for a tenant (a connection of its own, with the configured timeouts); the structure is read
 * with search_path = pg_catalog, as the tenants' is.
 */
export async function buildReference(ctx: Context, files: readonly LoadedMigration[]): Promise<Reference> {
  const scratch = `tenantctl$verify_${randomBytes(6).toString('hex')}`;
  return withSession(ctx.pool, (client) => runTransaction(client, ctx.config, {}, async (tx) => {
    tx.rollbackOnly();
    await client.query(`CREATE SCHEMA ${ident(scratch)}`);
    await asTenant(client, ctx.config, { schema: scratch });
    await runMigrationActions(client, files, 'up', ctx.log, { inlineNonTransactional: true });
    await client.query('SET LOCAL search_path = pg_catalog');
    const d = await client.query<{ digest: string | null }>(digestsSql(SCRATCH), [scratch]);
    const e = await client.query<Entry>(entriesSql(SCRATCH, 2), [scratch, [scratch]]);
    return { digest: d.rows[0]?.digest ?? null, entries: e.rows.map(({ kind, name, def }) => ({ kind, name, def })) };
  }));
}
