import type pg from 'pg';
import type { Context } from '../context.js';
import { describeError, usage } from '../errors.js';
import { enterTenantSql, type TenantWithJournal } from '../control/tenants.js';
import { inTransaction, isConnectionLoss, SwallowedFailure } from '../db/session.js';
import { classify } from '../sqlstate.js';
import type { PoolClient } from '../db/types.js';
import { runFleet, validatePolicy, type FailurePolicy } from '../runtime/fleet.js';
import { findFleetTenants, validateIds } from '../runtime/lookup.js';
import { assertNotArchived } from '../runtime/usable-tenants.js';
import { validateExecSql, type ExecStatementResult } from './exec.js';

/**
 * exec on several tenants (`--all`, or several `--tenant`): the same SQL and
 * checks as exec on one, run as each tenant in a transaction of its own on the
 * fleet's workers, with the fleet's failure policy. A tenant whose SQL fails
 * is rolled back and reported; the others are committed.
 */
export interface ExecFleetOptions extends FailurePolicy {
  /** These tenants (active or suspended)... */
  tenants?: string[];
  /** ...or every active tenant. */
  all?: boolean;
  sql?: string;
  file?: string;
  concurrency?: number;
}

export interface ExecTenantResult {
  id: string;
  status: 'done' | 'failed' | 'skipped';
  results?: ExecStatementResult[];
  error?: string;
  /** stopped: the failure policy ended the run first; unreachable: its server could not be reached (exit 3). */
  reason?: 'stopped' | 'unreachable';
  /** The server it lives on, when not the home server. */
  server?: string;
}

export interface ExecFleetResult {
  tenants: ExecTenantResult[];
  summary: { done: number; failed: number; skipped: number };
  stoppedBecause?: string;
}

/** Checks exec's fleet options without a database and returns the SQL and the named tenants (none for --all). */
export function validateExecFleetOptions(options: ExecFleetOptions): { sql: string; tenants: string[] | undefined } {
  const tenants = validateIds(options.tenants);
  if (options.all && tenants) throw usage('exec takes --all or --tenant, not both');
  if (!options.all && (!tenants || tenants.length === 0)) throw usage('exec needs --tenant ID (one or more) or --all');
  validatePolicy(options);
  return { sql: validateExecSql(options), tenants: options.all ? undefined : tenants };
}

export async function execFleet(ctx: Context, options: ExecFleetOptions): Promise<ExecFleetResult> {
  const valid = validateExecFleetOptions(options);
  // Every tenant on the server the placements map puts it on; those on a server that cannot be read fail (exit 3), the rest run.
  const fleet = await findFleetTenants(ctx, valid.tenants, valid.tenants ? undefined : 'active');
  const tenants = fleet.tenants;
  tenants.forEach(assertNotArchived);
  const outcome = await runFleet<TenantWithJournal, ExecTenantResult>(
    ctx,
    tenants,
    {
      concurrency: options.concurrency ?? ctx.config.concurrency,
      failFast: options.failFast,
      canary: options.canary,
      maxFailures: options.maxFailures,
      isFailure: (r) => r.status === 'failed',
      label: (t) => t.id,
      status: (r) => r.status,
      serverOf: (t) => t.server,
      onError: (t, err) => ({
        id: t.id,
        status: 'failed',
        error: `${describeError(err)}; nothing was changed`,
        ...(t.server !== 'default' && isConnectionLoss(err) ? { reason: 'unreachable' as const } : {}),
      }),
    },
    (client, tenant) => execOne(client, ctx, tenant, valid.sql),
  );
  const ran = tenants.map((t, i): ExecTenantResult => ({
    ...(outcome.results[i] ?? { id: t.id, status: 'skipped', reason: 'stopped', error: `not run: ${outcome.stoppedBecause}` }),
    ...(t.server !== 'default' ? { server: t.server } : {}),
  }));
  const lost = fleet.unreachable.map((u): ExecTenantResult => ({
    id: u.id,
    status: 'failed',
    reason: 'unreachable',
    server: u.server,
    error: `${u.error}; nothing was changed`,
  }));
  const list = lost.length > 0 ? [...ran, ...lost].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) : ran;
  const count = (s: ExecTenantResult['status']) => list.filter((t) => t.status === s).length;
  return {
    tenants: list,
    summary: { done: count('done'), failed: count('failed'), skipped: count('skipped') },
    ...(outcome.stoppedBecause ? { stoppedBecause: outcome.stoppedBecause } : {}),
  };
}

/** One tenant: BEGIN as the tenant, the SQL, a check that the role is still the tenant's, COMMIT (or ROLLBACK) and the reset. */
async function execOne(client: PoolClient, ctx: Context, tenant: TenantWithJournal, sql: string): Promise<ExecTenantResult> {
  try {
    const outcome = await inTransaction(
      client,
      ctx.config,
      { prelude: [enterTenantSql(ctx, tenant.id, ['active', 'suspended'])] },
      async (tx): Promise<ExecTenantResult> => {
        if (tx.prelude[0]?.rowCount !== 1) {
          tx.rollbackOnly();
          return { id: tenant.id, status: 'failed', error: `tenant "${tenant.id}" was archived or removed meanwhile; nothing was changed` };
        }
        const raw = (await client.query(`${sql}\n;SELECT current_user::text AS tc_current, session_user::text AS tc_session`)) as unknown; // the user's SQL by design (exec), then a constant: nothing to quote
        const list = (Array.isArray(raw) ? raw : [raw]) as pg.QueryResult[];
        const who = list.pop()!.rows[0] as { tc_current: string; tc_session: string };
        const expected = tenant.role ?? who.tc_session;
        if (who.tc_current !== expected) {
          tx.rollbackOnly();
          return {
            id: tenant.id,
            status: 'failed',
            error: `the SQL changed the role to "${who.tc_current}" (tenant "${tenant.id}" runs as "${expected}"); rolled back, nothing was changed`,
          };
        }
        const results = list.filter((r) => r.command !== null || (r.fields ?? []).length > 0);
        return {
          id: tenant.id,
          status: 'done',
          results: results.map((r) => ({
            command: r.command,
            rowCount: r.rowCount,
            fields: (r.fields ?? []).map((f) => f.name),
            rows: r.rows,
          })),
        };
      },
    );
    if (outcome.locked) throw new Error('unreachable: exec takes no lock');
    return outcome.value;
  } catch (err) {
    const kind = classify(err);
    if (err instanceof SwallowedFailure || kind === 'statement' || kind === 'timeout' || kind === 'retryable') {
      return { id: tenant.id, status: 'failed', error: `${describeError(err)}; nothing was changed` };
    }
    throw err;
  }
}
