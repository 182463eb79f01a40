// verify(): selects the checks and tenants, runs the checks in two lanes, gathers the result.
import { readTenants } from '../control/tenants.js';
import type { Context } from '../context.js';
import { findTenants, validateIds } from '../runtime/lookup.js';
import { controlReady } from '../control/ensure.js';
import { notInitialised } from '../errors.js';
import { InputError } from '../errors.js';
import { databaseOid } from '../roles/names.js';
import { tenantMigrations } from '../runtime/migration-files.js';
import type { LoadedMigrations } from '../migrations/types.js';
import { withCatalogSession } from './catalog-session.js';
import { CHECKS, CHECKS_BY_ID } from './checks/index.js';
import { runCheck, tenantVerdicts } from './run-check.js';
import { CHECK_IDS, type CheckDefinition, type CheckId, type FailOn, type VerifyOptions, type VerifyResult } from './types.js';

export function parseFailOn(value: string | undefined): FailOn {
  if (value === undefined) return 'error';
  if (value === 'error' || value === 'warn') return value;
  throw new InputError('usage', `--fail-on must be error or warn, got "${value}"`);
}

export function selectChecks(ids: readonly string[] | undefined): CheckDefinition[] {
  if (!ids || ids.length === 0) return [...CHECKS];
  const unknown = ids.filter((id) => !CHECKS_BY_ID.has(id as CheckId));
  if (unknown.length > 0) {
    throw new InputError(
      'unknown_check',
      `unknown check ${unknown.map((u) => JSON.stringify(u)).join(', ')}; the checks are ${CHECK_IDS.join(', ')}`,
    );
  }
  const wanted = new Set(ids);
  return CHECKS.filter((c) => wanted.has(c.id));
}

/**
 * Runs the isolation checks and returns every violation. Expected findings are
 * results, not exceptions: only bad input (exit 2) and the database (exit 3)
 * throw. Catalog checks are one query each for the whole fleet.
 */
export async function verify(ctx: Context, options: VerifyOptions = {}): Promise<VerifyResult> {
  const started = performance.now();
  const trips = ctx.stats.roundTrips;
  const failOn = parseFailOn(options.failOn);
  const checks = selectChecks(options.checks);
  // Loading the migration files (drift and registry read them) takes a while: it starts now, and runs
  // while the registry is read and the other checks wait on the server.
  let files: Promise<LoadedMigrations> | undefined;
  const migrations = () => (files ??= tenantMigrations(ctx));
  if (checks.some((c) => c.id === 'drift' || c.id === 'registry')) migrations().catch(() => undefined);
  const ids = validateIds(options.tenants);
  const narrowed = ids !== undefined && ids.length > 0;
  if (!(await controlReady(ctx))) throw notInitialised(ctx.config.controlSchema);
  const tenants = await findTenants(ctx, narrowed ? ids : undefined);
  const registry = narrowed ? await readTenants(ctx.pool, ctx) : tenants;
  const oid = await databaseOid(ctx.pool, ctx);
  // Lanes side by side, each on its own catalog session: each check with a lane of its own (the
  // ownership check, reading tables; drift, replaying the migrations), and the other catalog checks
  // one after another.
  const lane = (list: CheckDefinition[]) =>
    list.length === 0
      ? Promise.resolve([])
      : withCatalogSession(ctx, async (db) => {
          const done = [];
          for (const check of list)
            done.push(await runCheck(check, { ctx, db, tenants, registry, narrowed, databaseOid: oid, migrations }, failOn));
          return done;
        });
  const lanes = await Promise.all([...checks.filter((c) => c.ownLane).map((c) => lane([c])), lane(checks.filter((c) => !c.ownLane))]);
  const order = new Map(checks.map((c, i) => [c.id, i]));
  const outcomes = lanes.flat().sort((a, b) => order.get(a.result.name)! - order.get(b.result.name)!);
  const results = outcomes.map((o) => o.result);
  const violations = outcomes.flatMap((o) => o.violations);
  const notes = outcomes.flatMap((o) => o.notes);
  const verdicts = tenantVerdicts(tenants, violations, failOn);
  return {
    ok: results.every((r) => r.ok),
    failOn,
    tenants: verdicts,
    checks: results,
    violations,
    notes,
    stats: { roundTrips: ctx.stats.roundTrips - trips, seconds: (performance.now() - started) / 1000 },
  };
}
