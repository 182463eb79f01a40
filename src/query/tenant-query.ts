import type pg from 'pg';
import type { Context } from '../context.js';
import { enterTenantSql } from '../control/tenants.js';
import { inTransaction, rolledBackBlocks } from '../db/session.js';
import type { PoolClient } from '../db/types.js';
import { queryTypes } from './values.js';

/**
 * One tenant's read-only query: BEGIN READ ONLY as the tenant (search_path,
 * role, id and key settings), the statement with rows as arrays in column
 * order, a check that the statement left the role alone, and ROLLBACK with
 * the session reset. Three round trips; nothing the statement did survives.
 */
export type TenantRows = { ok: true; columns: string[]; rows: unknown[][] } | { ok: false; error: string };

const WHO = 'SELECT current_user::text AS current, session_user::text AS session';

/**
 * Many tenants' read-only queries in one round trip (rolledBackBlocks): per
 * tenant BEGIN READ ONLY as the tenant, the statement, the role check,
 * ROLLBACK; the session reset once after the last. Answers in the tenants'
 * order. A statement that fails in one tenant ends the message: that is
 * thrown, and the caller runs the tenants one at a time (queryTenant) to learn
 * which failed and to answer the others (read only: running again is harmless).
 */
export async function queryTenantBatch(
  client: PoolClient,
  ctx: Context,
  tenants: readonly { id: string; role: string | null }[],
  sql: string,
): Promise<TenantRows[]> {
  const blocks = tenants.map((t) => [enterTenantSql(ctx, t.id, ['active', 'suspended']), `${sql}\n`, WHO]);
  const answers = await rolledBackBlocks(client, ctx.config, { readOnly: true }, blocks, { rowMode: 'array', types: queryTypes });
  return answers.map((results, i) => {
    const tenant = tenants[i]!;
    if (results[0]?.rowCount !== 1) return { ok: false, error: `tenant "${tenant.id}" was archived or removed meanwhile` };
    return judge(tenant, results[1]!, results[2]!.rows[0] as unknown as [string, string]);
  });
}

/** What one tenant's statement gave: its rows, or why they are not shown (a changed role, no result set). */
function judge(tenant: { id: string; role: string | null }, first: pg.QueryResult<unknown[]>, who: [string, string]): TenantRows {
  const expected = tenant.role ?? who[1];
  if (who[0] !== expected)
    return {
      ok: false,
      error: `the statement changed the role to "${who[0]}" (tenant "${tenant.id}" runs as "${expected}"); its rows are not shown`,
    };
  if (!first.fields || first.fields.length === 0)
    return { ok: false, error: 'the statement returned no result set (query runs one statement that returns rows, such as SELECT)' };
  return { ok: true, columns: first.fields.map((f) => f.name), rows: first.rows };
}

export async function queryTenant(
  client: PoolClient,
  ctx: Context,
  tenant: { id: string; role: string | null },
  sql: string,
): Promise<TenantRows> {
  const outcome = await inTransaction(
    client,
    ctx.config,
    { readOnly: true, prelude: [enterTenantSql(ctx, tenant.id, ['active', 'suspended'])] },
    async (tx): Promise<TenantRows> => {
      tx.rollbackOnly();
      if (tx.prelude[0]?.rowCount !== 1) return { ok: false, error: `tenant "${tenant.id}" was archived or removed meanwhile` };
      // The newline ends a trailing -- comment; the check travels in the same message.
      const raw = (await client.query({ text: `${sql}\n;${WHO}`, rowMode: 'array', types: queryTypes } as pg.QueryConfig)) as unknown;
      const results = (Array.isArray(raw) ? raw : [raw]) as pg.QueryResult<unknown[]>[];
      const who = results.at(-1)!.rows[0] as [string, string];
      if (results.length !== 2)
        return { ok: false, error: 'the statement returned no result set (query runs one statement that returns rows, such as SELECT)' };
      return judge(tenant, results[0]!, who);
    },
  );
  if (outcome.locked) throw new Error('unreachable: query takes no lock');
  return outcome.value;
}
