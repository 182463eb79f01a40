import { InputError, RunFailure, TenantctlError, describeError, tenantArchived } from '../errors.js';
import { classify } from '../sqlstate.js';
import type { Context } from '../context.js';
import { assertTenantId } from '../runtime/ids.js';
import { findTenants } from '../runtime/lookup.js';
import { contextOf } from '../runtime/route.js';
import { loadSql, type SqlSource } from '../query/sql-source.js';
import { withTenant } from './with-tenant.js';

export interface ExecOptions {
  tenant: string;
  sql?: string;
  file?: string;
}

export interface ExecStatementResult {
  command: string;
  rowCount: number | null;
  fields: string[];
  rows: Record<string, unknown>[];
}

/**
 * Checks exec's options without a database and returns the SQL to run. SQL
 * that would end the tenant's transaction or change the session's role
 * (BEGIN, COMMIT, ROLLBACK, SET ROLE, SET SESSION AUTHORIZATION...) is refused:
 * a statement after it would run outside the tenant's transaction and role.
 */
export function validateExecOptions(options: ExecOptions): string {
  assertTenantId(options.tenant);
  return validateExecSql(options);
}

/** The SQL part of exec's check, shared by exec on one tenant and on several. */
export function validateExecSql(options: SqlSource): string {
  return loadSql(
    options,
    'exec',
    (kind) =>
      `exec runs all of its SQL in one transaction as the tenant, and ${kind} would end that transaction or change its role; remove it (the transaction is committed for you)`,
  ).sql;
}

/** Runs SQL as the tenant (search_path, role, key setting) in one transaction, like psql -1. */
export async function execAsTenant(ctx: Context, options: ExecOptions): Promise<{ tenant: string; results: ExecStatementResult[] }> {
  const sql = validateExecOptions(options);
  const [tenant] = await findTenants(ctx, [options.tenant]);
  if (tenant!.status === 'archived') throw tenantArchived(tenant!.id);
  // On the server the placements map puts the tenant on (findTenants read it).
  const sctx = contextOf(ctx, tenant!);
  try {
    const results = await withTenant(
      sctx.pool,
      options.tenant,
      async (client) => {
        const raw = (await client.query(sql)) as unknown;
        // What the lexer cannot see (a role changed through set_config or dynamic SQL) is caught before COMMIT.
        const who = await client.query<{ current: string; session: string }>(
          'SELECT current_user::text AS current, session_user::text AS session',
        );
        const expected = tenant!.role ?? who.rows[0]!.session;
        if (who.rows[0]!.current !== expected) {
          throw new InputError(
            'role_changed',
            `the SQL changed the role to "${who.rows[0]!.current}" (tenant "${options.tenant}" runs as "${expected}"); rolled back, nothing was changed`,
          );
        }
        const list = (Array.isArray(raw) ? raw : [raw]) as {
          command: string;
          rowCount: number | null;
          fields?: { name: string }[];
          rows: Record<string, unknown>[];
        }[];
        return list.map((r) => ({ command: r.command, rowCount: r.rowCount, fields: (r.fields ?? []).map((f) => f.name), rows: r.rows }));
      },
      { controlSchema: ctx.config.controlSchema, sharedSchema: ctx.config.sharedSchema, allowSuspended: true },
    );
    return { tenant: options.tenant, results };
  } catch (err) {
    if (err instanceof TenantctlError) throw err;
    if (classify(err) === 'statement' || classify(err) === 'timeout') {
      throw new RunFailure('sql_error', `SQL failed for tenant "${options.tenant}": ${describeError(err)}; nothing was changed`);
    }
    throw err;
  }
}
