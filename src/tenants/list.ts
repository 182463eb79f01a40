import { InputError } from '../errors.js';
import { assertServerName, unknownServer } from '../db/servers.js';
import type { TenantStatus, TenantWithJournal } from '../control/tenants.js';
import { planUp } from '../migrations/plan.js';
import type { Context } from '../context.js';
import { findFleetTenants, findTenants, type UnreachableTenant } from '../runtime/lookup.js';
import { tenantMigrations } from '../runtime/migration-files.js';
import { serverContext } from '../runtime/servers.js';
import { citusOf } from '../citus/detect.js';
import { readPlacements, type Placement } from '../citus/placement.js';

export interface TenantSummary {
  id: string;
  schema: string;
  status: TenantStatus;
  key: string;
  name: string | null;
  applied: number;
  pending: number;
  /** A spare of the pool (listed only when asked for). */
  pooled?: boolean;
  /** The server it lives on: "default" (the home server) or a name from the config's `servers`. */
  server: string;
  /**
   * On a Citus coordinator only: the worker its distributed schema lives on and its size; null when the
   * schema has no table yet or is not distributed.
   */
  placement?: Placement | null;
}

export interface TenantDetail extends TenantSummary {
  role: string | null;
  config: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
  migrations: { name: string; runOn: string }[];
}

const STATUSES: readonly TenantStatus[] = ['active', 'suspended', 'archived'];

export function assertStatus(status: string, allowed: readonly string[] = STATUSES): asserts status is TenantStatus {
  if (!allowed.includes(status)) throw new InputError('invalid_status', `status must be one of ${allowed.join(', ')}, got "${status}"`);
}

function summary(t: TenantWithJournal, pending: number): TenantSummary {
  return {
    id: t.id,
    schema: t.schema,
    status: t.status,
    key: t.key,
    name: t.name,
    applied: t.journal.length,
    pending,
    ...(t.pooled ? { pooled: true } : {}),
    server: t.server,
  };
}

/**
 * Every tenant (or those with `status`), with applied and pending counts: one
 * query per server (two on the home server: the registry and the placements
 * map; on a Citus coordinator one more, for every tenant's worker and size). The pool's spares only with `pooled`. Tenants on a server that cannot
 * be read come back in `unreachable` (the CLI exits 3).
 */
export interface ListTenantsOptions {
  status?: string;
  pooled?: boolean;
  /** Only the tenants on this server ("default" for the home server); the other servers are not read. */
  server?: string;
}

/** Checks list's options without a database: a status it knows, a server the config names. */
export function validateListOptions(ctx: Pick<Context, 'servers'> | undefined, options: ListTenantsOptions): void {
  if (options.status !== undefined) assertStatus(options.status);
  if (options.server !== undefined) {
    assertServerName(options.server);
    if (ctx && !ctx.servers.has(options.server)) throw unknownServer(options.server, ctx.servers.names());
  }
}

export async function listTenants(
  ctx: Context,
  options: ListTenantsOptions = {},
): Promise<{ tenants: TenantSummary[]; unreachable: UnreachableTenant[] }> {
  validateListOptions(ctx, options);
  const files = await tenantMigrations(ctx);
  const fleet = await findFleetTenants(ctx, undefined, options.status as TenantStatus | undefined, options.server);
  const rows = fleet.tenants.filter((t) => (options.pooled || !t.pooled) && (options.server === undefined || t.server === options.server));
  const unreachable = fleet.unreachable.filter((u) => options.server === undefined || u.server === options.server);
  const tenants = rows.map((t) => summary(t, planUp(files.list, t.journal).pending.length));
  return { tenants: await withPlacements(ctx, tenants), unreachable };
}

/**
 * On each Citus server of the fleet, the placement of its tenants: one query per
 * such server (see readPlacements), whatever the number of tenants.
 */
async function withPlacements<T extends TenantSummary>(ctx: Context, tenants: T[]): Promise<T[]> {
  const byServer = new Map<string, T[]>();
  for (const t of tenants) byServer.set(t.server, [...(byServer.get(t.server) ?? []), t]);
  await Promise.all(
    [...byServer].map(async ([server, list]) => {
      const sctx = serverContext(ctx, server);
      if (!(await citusOf(sctx))) return;
      const placements = await readPlacements(
        sctx.pool,
        list.map((t) => t.schema),
      );
      for (const t of list) t.placement = placements.get(t.schema) ?? null;
    }),
  );
  return tenants;
}

/** One tenant: the summary, its config and its applied migrations (a spare of the pool is unknown, as to every command naming it). */
export async function showTenant(ctx: Context, id: string): Promise<{ tenant: TenantDetail }> {
  const files = await tenantMigrations(ctx);
  const [t] = await findTenants(ctx, [id]);
  const [one] = await withPlacements(ctx, [summary(t!, planUp(files.list, t!.journal).pending.length)]);
  return {
    tenant: {
      ...one!,
      role: t!.role,
      config: t!.config,
      createdAt: new Date(t!.createdAt).toISOString(),
      updatedAt: new Date(t!.updatedAt).toISOString(),
      archivedAt: t!.archivedAt ? new Date(t!.archivedAt).toISOString() : null,
      migrations: t!.journal.map((j) => ({ name: j.name, runOn: j.runOn.toISOString() })),
    },
  };
}
