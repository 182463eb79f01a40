import { randomBytes } from 'node:crypto';
import type { Context } from '../../context.js';
import { ensureControlSchema, controlReady, controlVersion } from '../../control/ensure.js';
import { countSpares } from '../../control/pool.js';
import { readTemplate } from '../../control/templates.js';
import { RunFailure, usage } from '../../errors.js';
import { assertServerName, unknownServer } from '../../db/servers.js';
import { serverContext } from '../../runtime/servers.js';
import { migrateShared } from '../../migrate/shared.js';
import { tenantMigrations } from '../../runtime/migration-files.js';
import { createSpecs, type CreateTenantsResult } from '../create.js';
import { ensureSharedRoleOnce, tenantSpecs } from '../provision.js';
import { ensureTemplate } from './capture.js';
import { headOf } from './head.js';

/**
 * The pool: spare tenants made ahead at the head, registered but hidden, so
 * that `tenant create` only renames one. Spares are migrated by `migrate`
 * like every tenant; create takes only those at the head.
 */
export interface FillPoolOptions {
  /** How many spares at the head the pool should hold. */
  count: number;
  concurrency?: number;
  /** The server whose pool to fill: a name from the config's `servers`; default the home server. */
  server?: string;
}

export interface PoolStatus {
  /** Spares in the pool, and how many of them are at the head (the others wait for `migrate`). */
  spares: number;
  atHead: number;
  head: string;
  /** Whether the head's structure is captured, and whether its spares can be renamed. */
  captured: boolean;
  renameSafe: boolean | null;
}

export function validateFillPoolOptions(options: FillPoolOptions): void {
  if (!Number.isInteger(options.count) || options.count < 0)
    throw usage(`tenant pool fill needs a count of 0 or more, got ${String(options.count)}`);
  if (options.server !== undefined) assertServerName(options.server);
}

/** The context of the server whose pool a command works on (each server keeps its own spares and template). */
function poolServer(ctx: Context, server: string | undefined): Context {
  if (server === undefined || server === ctx.server) return ctx;
  if (!ctx.servers.has(server)) throw unknownServer(server, ctx.servers.names());
  return serverContext(ctx, server);
}

/** Makes spares until the pool holds `count` at the head; returns the spares made. */
export async function fillPool(home: Context, options: FillPoolOptions): Promise<CreateTenantsResult & { status: PoolStatus }> {
  validateFillPoolOptions(options);
  const ctx = poolServer(home, options.server);
  const files = await tenantMigrations(ctx);
  await ensureControlSchema(ctx);
  await migrateShared(ctx);
  await ensureSharedRoleOnce(ctx.pool, ctx);
  const capture = await ensureTemplate(ctx, files.list);
  if (!capture.template)
    throw new RunFailure('pool_unavailable', `the pool needs the head's structure captured: ${capture.reason}; nothing was changed`);
  if (!capture.template.renameSafe) {
    throw new RunFailure(
      'pool_unavailable',
      "the migrations write a tenant's schema, role, id or key into function bodies, settings, comments or rows, so a spare renamed later would differ from a tenant built for its id; tenant create builds each tenant instead",
    );
  }
  const head = headOf(files.list);
  const missing = Math.max(0, options.count - (await countSpares(ctx.pool, ctx, head)).atHead);
  const ids = Array.from({ length: missing }, () => `pool_${randomBytes(8).toString('hex')}`);
  const specs = (
    await tenantSpecs(
      ctx,
      ids.map((id) => ({ id, config: {} })),
      files.list,
    )
  ).map((s) => ({ ...s, pooled: true }));
  const result = await createSpecs(ctx, specs, { concurrency: options.concurrency }, { template: capture.template, head, pool: false });
  return { ...result, status: await poolStatus(ctx) };
}

/** How many spares the pool holds, at the head and behind it. */
export async function poolStatus(home: Context, options: { server?: string } = {}): Promise<PoolStatus> {
  if (options.server !== undefined) assertServerName(options.server);
  const ctx = poolServer(home, options.server);
  const files = await tenantMigrations(ctx);
  const head = headOf(files.list);
  // Before control schema version 2 there is no pool.
  if (!(await controlReady(ctx)) || (await controlVersion(ctx)) < 2)
    return { spares: 0, atHead: 0, head, captured: false, renameSafe: null };
  const counts = await countSpares(ctx.pool, ctx, head);
  const template = await readTemplate(ctx.pool, ctx, head);
  return { ...counts, head, captured: template !== undefined, renameSafe: template?.renameSafe ?? null };
}
