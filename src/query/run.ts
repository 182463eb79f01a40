import type { Context } from '../context.js';
import { describeError } from '../errors.js';
import { classify, SQLSTATE, sqlstateOf } from '../sqlstate.js';
import { runFleet } from '../runtime/fleet.js';
import { findFleetTenants } from '../runtime/lookup.js';
import { isConnectionLoss } from '../sqlstate.js';
import { assertNotArchived } from '../runtime/usable-tenants.js';
import { validateQueryOptions, type QueryOptions } from './options.js';
import { queryTenant, type TenantRows } from './tenant-query.js';

/**
 * `query`: one read-only statement run as each tenant on the fleet's workers,
 * the rows of all of them one result set whose first column is `tenant`. Each
 * tenant's rows are handed to `onRows` as soon as that tenant finishes (calls
 * never overlap, and the next tenant's rows wait for the previous call), so a
 * caller that writes them out holds one tenant's rows at a time. A tenant
 * whose statement fails, or whose columns differ from the first tenant's, is
 * an error in the result and the rest go on.
 */
export interface QueryRows {
  tenant: string;
  /** The result set's columns: `tenant`, then the statement's. */
  columns: string[];
  /** The statement's values, in column order (without the tenant). */
  rows: unknown[][];
}

export interface QueryTenantOutcome {
  id: string;
  status: 'ok' | 'failed';
  rows: number;
  error?: string;
  /** unreachable: its server could not be reached (exit 3 when nothing else failed). */
  reason?: 'unreachable';
  /** The server it lives on, for a tenant whose server could not be reached. */
  server?: string;
}

export interface QueryResult {
  /** `tenant`, then the statement's columns (just `tenant` when no tenant answered). */
  columns: string[];
  tenants: QueryTenantOutcome[];
  errors: { tenant: string; message: string }[];
  rows: number;
}

export async function queryTenants(
  ctx: Context,
  options: QueryOptions,
  onRows: (batch: QueryRows) => void | Promise<void>,
): Promise<QueryResult> {
  const valid = validateQueryOptions(options);
  // Each tenant on its own server (the placements map); one on a server that cannot be read is a failed tenant, not a failed run.
  const fleet = await findFleetTenants(ctx, valid.tenants, valid.tenants ? undefined : 'active');
  const tenants = fleet.tenants;
  tenants.forEach(assertNotArchived);
  let columns: string[] | undefined;
  let chain: Promise<void> = Promise.resolve();
  const outcome = await runFleet<(typeof tenants)[number], QueryTenantOutcome>(
    ctx,
    tenants,
    {
      concurrency: valid.concurrency ?? ctx.config.concurrency,
      isFailure: () => false,
      label: (t) => t.id,
      status: (r) => r.status,
      serverOf: (t) => t.server,
      onError: (t, err) => ({ id: t.id, status: 'failed', rows: 0, error: describeError(err), ...unreachableIf(t, err) }),
    },
    async (client, tenant) => {
      let answer: TenantRows;
      try {
        answer = await queryTenant(client, ctx, tenant, valid.sql);
      } catch (err) {
        const kind = classify(err);
        if (kind !== 'statement' && kind !== 'timeout' && kind !== 'retryable') throw err;
        const hint = sqlstateOf(err) === SQLSTATE.READ_ONLY_SQL_TRANSACTION ? '; query is read-only: write with exec' : '';
        answer = { ok: false, error: `${describeError(err)}${hint}` };
      }
      if (!answer.ok) return { id: tenant.id, status: 'failed', rows: 0, error: answer.error };
      const problem = columnProblem(answer.columns, columns);
      if (problem) return { id: tenant.id, status: 'failed', rows: 0, error: problem };
      columns ??= ['tenant', ...answer.columns];
      const batch = { tenant: tenant.id, columns, rows: answer.rows };
      chain = chain.then(() => onRows(batch));
      await chain;
      return { id: tenant.id, status: 'ok', rows: answer.rows.length };
    },
  );
  const ran = outcome.results.map((r, i) => r ?? { id: tenants[i]!.id, status: 'failed' as const, rows: 0, error: 'not run' });
  const lost = fleet.unreachable.map((u): QueryTenantOutcome => ({
    id: u.id,
    status: 'failed',
    rows: 0,
    error: u.error,
    reason: 'unreachable',
    server: u.server,
  }));
  // Tenant order, whichever server answered first (the rows themselves went to onRows as each tenant finished).
  const list = lost.length > 0 ? [...ran, ...lost].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) : ran;
  return {
    columns: columns ?? ['tenant'],
    tenants: list,
    errors: list.filter((t) => t.status === 'failed').map((t) => ({ tenant: t.id, message: t.error ?? '' })),
    rows: list.reduce((n, t) => n + t.rows, 0),
  };
}

/** Why these columns cannot join the result set: a name used twice (or `tenant`), or not the first tenant's columns. */
function columnProblem(mine: readonly string[], established: readonly string[] | undefined): string | undefined {
  const seen = new Set<string>(['tenant']);
  for (const name of mine) {
    if (seen.has(name)) {
      return name === 'tenant'
        ? 'the statement returns a column named "tenant", which the result set already starts with; rename it with AS'
        : `the statement returns two columns named "${name}"; give them distinct names with AS`;
    }
    seen.add(name);
  }
  if (established && established.slice(1).join('\u0000') !== mine.join('\u0000')) {
    return `its columns (${mine.join(', ')}) differ from the other tenants' (${established.slice(1).join(', ')}); is its schema at another migration?`;
  }
  return undefined;
}

/** A tenant of another server whose connection failed: its server could not be reached. */
function unreachableIf(t: { server: string }, err: unknown): { reason?: 'unreachable'; server?: string } {
  return t.server !== 'default' && isConnectionLoss(err) ? { reason: 'unreachable', server: t.server } : {};
}
