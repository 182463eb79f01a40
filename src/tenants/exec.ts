import { readFileSync } from 'node:fs';
import { InputError, TenantctlError, describeError } from '../errors.js';
import type { Context } from '../context.js';
import { findTenants } from '../runtime/lookup.js';
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

/** Runs SQL as the tenant (search_path, role, key setting) in one transaction, like psql -1. */
export async function execAsTenant(ctx: Context, options: ExecOptions): Promise<{ tenant: string; results: ExecStatementResult[] }> {
  if ((options.sql === undefined) === (options.file === undefined)) throw new InputError('usage', 'exec needs exactly one of -c SQL or -f FILE');
  let sql = options.sql ?? '';
  if (options.file !== undefined) {
    try {
      sql = readFileSync(options.file, 'utf8');
    } catch (err) {
      throw new InputError('file_not_found', `cannot read ${options.file}: ${(err as Error).message}`);
    }
  }
  const [tenant] = await findTenants(ctx, [options.tenant]);
  if (tenant!.status === 'archived') throw new InputError('tenant_archived', `tenant "${tenant!.id}" is archived; restore it first`);
  try {
    const results = await withTenant(
      ctx.pool,
      options.tenant,
      async (client) => {
        const raw = (await client.query(sql)) as unknown;
        const list = (Array.isArray(raw) ? raw : [raw]) as { command: string; rowCount: number | null; fields?: { name: string }[]; rows: Record<string, unknown>[] }[];
        return list.map((r) => ({ command: r.command, rowCount: r.rowCount, fields: (r.fields ?? []).map((f) => f.name), rows: r.rows }));
      },
      { controlSchema: ctx.config.controlSchema, sharedSchema: ctx.config.sharedSchema, allowSuspended: true },
    );
    return { tenant: options.tenant, results };
  } catch (err) {
    if (err instanceof TenantctlError) throw err;
    if ((err as { code?: string }).code && !/^(08|57P0)/.test((err as { code: string }).code)) {
      throw new TenantctlError('sql_error', `SQL failed for tenant "${options.tenant}": ${describeError(err)}; nothing was changed`, 1);
    }
    throw err;
  }
}
