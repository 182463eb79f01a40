import type pg from 'pg';
import type { Context } from '../context.js';
import { enterTenantSql } from '../control/tenants.js';
import { inTransaction } from '../db/session.js';
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
      const expected = tenant.role ?? who[1];
      if (who[0] !== expected)
        return {
          ok: false,
          error: `the statement changed the role to "${who[0]}" (tenant "${tenant.id}" runs as "${expected}"); its rows are not shown`,
        };
      const first = results[0]!;
      if (results.length !== 2 || !first.fields || first.fields.length === 0)
        return { ok: false, error: 'the statement returned no result set (query runs one statement that returns rows, such as SELECT)' };
      return { ok: true, columns: first.fields.map((f) => f.name), rows: first.rows };
    },
  );
  if (outcome.locked) throw new Error('unreachable: query takes no lock');
  return outcome.value;
}
