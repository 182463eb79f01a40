import type { Context } from '../context.js';
import { describeError } from '../errors.js';
import { classify, SQLSTATE, sqlstateOf } from '../sqlstate.js';
import { runFleet } from '../runtime/fleet.js';
import { findFleetTenants } from '../runtime/lookup.js';
import { isConnectionLoss } from '../sqlstate.js';
import { assertNotArchived } from '../runtime/usable-tenants.js';
import { validateQueryOptions, type QueryOptions } from './options.js';
import { queryTenant, queryTenantBatch, type TenantRows } from './tenant-query.js';
import type { TenantWithJournal } from '../control/tenants.js';
import type { PoolClient } from '../db/types.js';

/** What query reads of a tenant (its journal is not read). */
type Tenant = Pick<TenantWithJournal, 'id' | 'server' | 'role' | 'status'>;

/** Tenants of one server whose queries travel in one message. */
interface Batch {
  server: string;
  tenants: Tenant[];
}

/** The most tenants one message carries: each holds its rows until the message is answered. */
const MAX_BATCH = 32;

/**
 * Each server's tenants in order, cut into batches small enough that every
 * worker gets several (so the last batch does not keep the others waiting),
 * and at most MAX_BATCH tenants.
 */
function batchesOf(tenants: readonly Tenant[], concurrency: number): Batch[] {
  const byServer = new Map<string, Tenant[]>();
  for (const t of tenants) {
    const list = byServer.get(t.server);
    if (list) list.push(t);
    else byServer.set(t.server, [t]);
  }
  const out: Batch[] = [];
  for (const [server, list] of byServer) {
    const size = Math.max(1, Math.min(MAX_BATCH, Math.ceil(list.length / (concurrency * 2))));
    for (let i = 0; i < list.length; i += size) out.push({ server, tenants: list.slice(i, i + size) });
  }
  return out;
}

/** A failure of the statement itself (not of the connection): the tenant's result, the run goes on. */
function isStatementFailure(err: unknown): boolean {
  const kind = classify(err);
  return kind === 'statement' || kind === 'timeout' || kind === 'retryable';
}

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
  // The registry rows only: reading every tenant's journal cost more than the rest of the lookup over a large fleet.
  const fleet = await findFleetTenants(ctx, valid.tenants, valid.tenants ? undefined : 'active', undefined, { journal: false });
  const tenants = fleet.tenants;
  tenants.forEach(assertNotArchived);
  let columns: string[] | undefined;
  let chain: Promise<void> = Promise.resolve();
  const concurrency = valid.concurrency ?? ctx.config.concurrency;
  const batches = batchesOf(tenants, concurrency);
  let done = 0;
  let failedCount = 0;
  /** One tenant's answer into the result set: its rows to onRows, in turn. */
  const take = async (tenant: Tenant, answer: TenantRows): Promise<QueryTenantOutcome> => {
    const problem = answer.ok ? columnProblem(answer.columns, columns) : answer.error;
    const result: QueryTenantOutcome = problem
      ? { id: tenant.id, status: 'failed', rows: 0, error: problem }
      : { id: tenant.id, status: 'ok', rows: answer.ok ? answer.rows.length : 0 };
    if (!problem && answer.ok) {
      columns ??= ['tenant', ...answer.columns];
      const batch = { tenant: tenant.id, columns, rows: answer.rows };
      chain = chain.then(() => onRows(batch));
      await chain;
    }
    if (result.status === 'failed') failedCount++;
    ctx.onProgress?.({ id: tenant.id, status: result.status, done: ++done, failed: failedCount, total: tenants.length });
    return result;
  };
  // Progress is per tenant (take), not per batch.
  const outcome = await runFleet<Batch, QueryTenantOutcome[]>(
    { ...ctx, onProgress: undefined },
    batches,
    {
      concurrency,
      isFailure: () => false,
      label: (b) => b.tenants[0]!.id,
      status: () => 'done',
      serverOf: (b) => b.server,
      onError: (b, err) =>
        b.tenants.map((t) => ({ id: t.id, status: 'failed' as const, rows: 0, error: describeError(err), ...unreachableIf(t, err) })),
    },
    async (client, batch) => {
      let answers: TenantRows[] | undefined;
      if (batch.tenants.length > 1) {
        try {
          answers = await queryTenantBatch(client, ctx, batch.tenants, valid.sql);
        } catch (err) {
          // One tenant's statement failed and ended the message: each tenant again on its own, to say which.
          if (!isStatementFailure(err)) throw err;
        }
      }
      const out: QueryTenantOutcome[] = [];
      for (const [i, tenant] of batch.tenants.entries()) out.push(await take(tenant, answers?.[i] ?? (await alone(client, tenant))));
      return out;
    },
  );
  async function alone(client: PoolClient, tenant: Tenant): Promise<TenantRows> {
    try {
      return await queryTenant(client, ctx, tenant, valid.sql);
    } catch (err) {
      if (!isStatementFailure(err)) throw err;
      const hint = sqlstateOf(err) === SQLSTATE.READ_ONLY_SQL_TRANSACTION ? '; query is read-only: write with exec' : '';
      return { ok: false, error: `${describeError(err)}${hint}` };
    }
  }
  const ran = outcome.results.flatMap(
    (r, i) => r ?? batches[i]!.tenants.map((t) => ({ id: t.id, status: 'failed' as const, rows: 0, error: 'not run' })),
  );
  const lost = fleet.unreachable.map((u): QueryTenantOutcome => ({
    id: u.id,
    status: 'failed',
    rows: 0,
    error: u.error,
    reason: 'unreachable',
    server: u.server,
  }));
  // Tenant order, whichever server answered first (the rows themselves went to onRows as each tenant finished).
  const order = new Map(tenants.map((t, i) => [t.id, i]));
  const byOrder = (a: QueryTenantOutcome, b: QueryTenantOutcome) => order.get(a.id)! - order.get(b.id)!;
  const list =
    lost.length > 0
      ? [...ran, ...lost].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      : batches.length > 1
        ? ran.sort(byOrder)
        : ran;
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
