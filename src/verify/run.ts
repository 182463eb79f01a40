// verify(): selects the checks and tenants, runs the checks on every server (in lanes on each), gathers the result.
import type { Context } from '../context.js';
import { HOME_SERVER } from '../config/types.js';
import { validateIds } from '../runtime/lookup.js';
import { controlReady } from '../control/ensure.js';
import { InputError, notInitialised, serverUnreachable } from '../errors.js';
import { databaseOid } from '../roles/names.js';
import { tenantMigrations } from '../runtime/migration-files.js';
import type { LoadedMigrations } from '../migrations/types.js';
import { withCatalogSession } from './catalog-session.js';
import { CHECKS, CHECKS_BY_ID } from './checks/index.js';
import { readVerifyFleet, unreachableReason, type ServerPlan } from './fleet.js';
import { StatementSlots } from './slots.js';
import { checkResult, recordFindings, runCheck, tenantVerdicts, type CheckOutcome } from './run-check.js';
import {
  CHECK_IDS,
  type CheckDefinition,
  type CheckId,
  type CheckResult,
  type FailOn,
  type Note,
  type VerifyOptions,
  type VerifyResult,
  type VerifyScope,
  type Violation,
} from './types.js';

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
 * Runs the isolation checks on every server of the fleet and returns every violation. Expected
 * findings are results, not exceptions: only bad input (exit 2) and the home server (exit 3)
 * throw; a server that cannot be read is reported with its tenants (`unreachable`), and the others
 * are checked. Catalog checks are one query each per server, whatever the number of tenants.
 */
export async function verify(ctx: Context, options: VerifyOptions = {}): Promise<VerifyResult> {
  const started = performance.now();
  const trips = ctx.stats.roundTrips;
  const failOn = parseFailOn(options.failOn);
  const checks = selectChecks(options.checks);
  // The migration files (drift and registry read them) load when a check first asks, once for every
  // server's checks: drift asks once its digests are on the server. Loading them (node-pg-migrate's
  // modules, then the files) keeps this process busy for 50-100 ms; started here, it delayed the
  // registry read and every check's start by about as much (measured on 1,000 tenants).
  let files: Promise<LoadedMigrations> | undefined;
  const migrations = () => (files ??= tenantMigrations(ctx));
  const ids = validateIds(options.tenants);
  const narrowed = ids !== undefined && ids.length > 0;
  if (!(await controlReady(ctx))) throw notInitialised(ctx.config.controlSchema);
  const fleet = await readVerifyFleet(ctx, narrowed ? ids : undefined);
  const unreachable = [...fleet.unreachable];
  const servers = fleet.servers.map((s) => ({ ...s }));
  // Every server at once; on each, its lanes side by side.
  const runs = await Promise.all(
    fleet.plans.map(async (plan) => {
      try {
        return { plan, ok: true, outcomes: await verifyServer(plan, checks, { narrowed, migrations, fleetKeys: fleet.fleetKeys }, failOn) };
      } catch (err) {
        // The home server holds the registry and the map: without it nothing is verified (exit 3 as before).
        const why = plan.server === HOME_SERVER ? undefined : unreachableReason(err);
        if (why === undefined) throw err;
        const error = serverUnreachable(plan.server, `cannot be reached: ${why}`).message;
        for (const t of plan.tenants) unreachable.push({ id: t.id, server: plan.server, error });
        Object.assign(
          servers.find((s) => s.server === plan.server)!,
          { checked: false, error },
        );
        return { plan, ok: false, outcomes: [] };
      }
    }),
  );
  const done = runs.filter((r) => r.ok);
  const multi = done.length > 1;
  const results: CheckResult[] = [];
  const violations: Violation[] = [];
  const notes: Note[] = [];
  for (const check of checks) {
    const mine = done.map((r) => ({ server: r.plan.server, outcome: r.outcomes.find((o) => o.result.name === check.id)! }));
    const found = mine.flatMap((m) => m.outcome.violations);
    const noted = mine.flatMap((m) => m.outcome.notes);
    // The registry against the map (placements, leftovers) was found while the fleet was read.
    if (check.id === 'registry') {
      const fromFleet = recordFindings(check, fleet.findings, HOME_SERVER);
      found.push(...fromFleet.violations);
      noted.push(...fromFleet.notes);
    }
    const roundTrips = mine.reduce((n, m) => n + m.outcome.result.roundTrips, 0);
    const seconds = Math.max(0, ...mine.map((m) => m.outcome.result.seconds));
    const result = checkResult(check, found, noted, failOn, roundTrips, seconds);
    if (multi)
      result.servers = mine.map((m) => ({
        server: m.server,
        violations: m.outcome.result.violations,
        roundTrips: m.outcome.result.roundTrips,
        seconds: m.outcome.result.seconds,
      }));
    results.push(result);
    violations.push(...found);
    notes.push(...noted);
  }
  unreachable.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const listed = [
    ...done.flatMap((r) => r.plan.tenants),
    ...unreachable.map((u) => ({ id: u.id, server: u.server, status: 'unreachable', error: u.error })),
    ...fleet.missing.map((m) => ({ id: m.id, server: m.server, status: 'missing' })),
  ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    ok: results.every((r) => r.ok) && servers.every((s) => s.error === undefined),
    failOn,
    tenants: tenantVerdicts(listed, violations, failOn),
    checks: results,
    violations,
    notes,
    servers,
    unreachable,
    stats: { roundTrips: ctx.stats.roundTrips - trips, seconds: (performance.now() - started) / 1000 },
  };
}

/**
 * The checks in lanes: one for each check that has a lane of its own, one for the rest, and no more
 * lanes than `concurrency` (the last ones merged, in order). The pool holds concurrency + 2
 * connections: the lanes' sessions, drift's replay session and the slots (concurrency less the
 * lanes but one) fill it exactly, so no statement waits for a connection that a lane holds idle
 * (with 3 lanes at concurrency 1, verify waited out the pool's connect timeout and failed).
 */
export function lanesOf(checks: readonly CheckDefinition[], concurrency: number): CheckDefinition[][] {
  const groups = [...checks.filter((c) => c.ownLane).map((c) => [c]), checks.filter((c) => !c.ownLane)].filter((g) => g.length > 0);
  while (groups.length > Math.max(1, concurrency)) {
    const last = groups.pop()!;
    groups[groups.length - 1]!.push(...last);
  }
  return groups;
}

/**
 * One server's checks, on that server's context: lanes side by side, each on its own catalog session
 * (each check with a lane of its own: the ownership check, reading tables; drift, replaying the
 * migrations), and the other catalog checks one after another. Outcomes in the order of `checks`.
 * The configured concurrency bounds the statements running at once: each lane's session but the
 * first's is one, and the statements the checks run beside their lanes (ownership's probes, drift's
 * second stream of digests) share the rest, in turn (StatementSlots): 2 of the default 4 with every
 * check, a third and a fourth as the other lanes end (measured on 1,000 tenants and 2 cores: 4 probes
 * beside the lanes took 1.68 s, 2 took 1.58 s).
 */
async function verifyServer(
  plan: ServerPlan,
  checks: readonly CheckDefinition[],
  shared: Pick<VerifyScope, 'narrowed' | 'migrations' | 'fleetKeys'>,
  failOn: FailOn,
): Promise<CheckOutcome[]> {
  const { ctx, tenants, registry } = plan;
  const oid = await databaseOid(ctx.pool, ctx);
  const groups = lanesOf(checks, ctx.config.concurrency);
  // The configured concurrency is the server's share: the other lanes' sessions count against it,
  // and each one's place goes to the checks still running when it ends.
  const slots = new StatementSlots(ctx.config.concurrency - (groups.length - 1));
  const lane = (list: CheckDefinition[], i: number) =>
    withCatalogSession(ctx, async (db) => {
      const out: CheckOutcome[] = [];
      for (const check of list) out.push(await runCheck(check, { ...shared, ctx, db, tenants, registry, databaseOid: oid, slots }, failOn));
      return out;
    }).finally(() => {
      if (i > 0) slots.free(1);
    });
  const lanes = await Promise.all(groups.map(lane));
  const order = new Map(checks.map((c, i) => [c.id, i]));
  return lanes.flat().sort((a, b) => order.get(a.result.name)! - order.get(b.result.name)!);
}
