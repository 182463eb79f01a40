// The shapes verify works with: checks, findings, violations, options and the result.
import type { TenantWithJournal } from '../control/tenants.js';
import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import type { StatementSlots } from './slots.js';
import type { LoadedMigrations } from '../migrations/types.js';

/** The stable ids of the checks, in the order they run. */
export const CHECK_IDS = ['ownership', 'references', 'privileges', 'rls', 'drift', 'registry'] as const;
export type CheckId = (typeof CHECK_IDS)[number];

/** How bad a violation is. `--fail-on` picks the lowest level that makes exit 1. */
export type Level = 'error' | 'warn' | 'info';
export type FailOn = 'error' | 'warn';

const RANK: Record<Level, number> = { info: 0, warn: 1, error: 2 };

/** Does a violation at `level` fail a run with `--fail-on failOn`? */
export function fails(level: Level, failOn: FailOn): boolean {
  return RANK[level] >= RANK[failOn];
}

/** What a check finds: one object of one tenant (null: the fleet or the shared schema). */
export interface Finding {
  /** The stable id of this kind of finding (`shared-bridge`, `predefined-role`...); defaults to the check's id. */
  rule?: string;
  tenant: string | null;
  /** The object, named inside the tenant's schema: `invoices`, `view customer_totals`, `role tc1_acme`. */
  object: string;
  detail: string;
  /** Defaults to the check's level. */
  level?: Level;
  /** Defaults to the check's remediation. */
  remediation?: string;
  /** Not a violation: something worth knowing (e.g. a table verified by a full scan). */
  note?: boolean;
  /** The server it concerns; defaults to the server the check ran on. */
  server?: string;
}

/** Something a check noticed that is not a violation. */
export interface Note {
  check: CheckId;
  /** The server it was found on: "default" (the home server) or a name from the config's `servers`. */
  server: string;
  tenant: string | null;
  object: string;
  detail: string;
}

export interface Violation {
  check: CheckId;
  /** The stable id of this kind of violation within its check (docs/verify.md lists them). */
  rule: string;
  /** The server it was found on: "default" (the home server) or a name from the config's `servers`. */
  server: string;
  tenant: string | null;
  object: string;
  detail: string;
  level: Level;
  remediation: string;
}

/** Everything a check needs on one server, read once for the whole run. */
export interface VerifyScope {
  /** The context of the server the check runs on (serverContext): its pool, its name in `ctx.server`. */
  ctx: Context;
  /** A catalog session: one connection, JIT off, search_path = pg_catalog (see session.ts). Catalog queries go here. */
  db: Queryable;
  /** Any pooled connection: for statements that may run side by side (the ownership probes). */
  pool: Queryable;
  /**
   * The statements a check runs beside its lane's own (on `pool`, or on a `session`), one slot each:
   * shared by every check of the server, the configured concurrency less one for each other lane
   * running beside (at least 1), and a slot more each time a lane ends. The server's processes then
   * share its cores between the checks, and the last check running gets every one of them.
   */
  slots: StatementSlots;
  /**
   * Another catalog session for the length of `fn`, set up as `db` is, its statements counted with
   * the check's own: for catalog work a check runs side by side with its own (drift's replays while `db`
   * reads the digests).
   */
  session<T>(fn: (db: Queryable) => Promise<T>): Promise<T>;
  /** The tenants of this server this run reports on (all, or those named with --tenant). */
  tenants: TenantWithJournal[];
  /**
   * Every registry row of this server: its tenants and the rows the placements map does not point
   * at (leftovers of an interrupted create or relocation). "Another tenant" means any of these.
   */
  registry: TenantWithJournal[];
  /** Every tenant key of the fleet, on every server (keys must be unique over the fleet). */
  fleetKeys: readonly { id: string; key: string; server: string }[];
  /** True when --tenant narrowed the run: findings about no registered tenant (orphan schemas and roles) are then left out. */
  narrowed: boolean;
  /** The database oid that tenant role names carry (tc<oid>_<id>). */
  databaseOid: number;
  /** The tenant migration files, loaded once per run (started early: loading them takes a while). */
  migrations(): Promise<LoadedMigrations>;
}

export interface CheckDefinition {
  id: CheckId;
  /** The most severe level this check reports. */
  level: Level;
  description: string;
  remediation: string;
  /** A catalog check costs the same number of queries whatever the fleet size. */
  catalog: boolean;
  /** Runs on its own session, side by side with the other checks (its work is long: reading tables, replaying migrations). */
  ownLane?: boolean;
  run(scope: VerifyScope): Promise<Finding[]>;
}

export interface VerifyOptions {
  /** Only these tenants (each must exist); default every registered tenant. */
  tenants?: string[];
  /** Only these checks (ids); default all. */
  checks?: string[];
  /** The lowest level that fails the run: error (default) or warn. */
  failOn?: string;
}

export interface CheckResult {
  name: CheckId;
  /** No violation at or above failOn. */
  ok: boolean;
  /** How many violations (every level). */
  violations: number;
  /** How many notes (not violations). */
  notes: number;
  level: Level;
  description: string;
  catalog: boolean;
  /** Statements this check sent (on every server), and its wall time (the slowest server's). */
  roundTrips: number;
  seconds: number;
  /** With more than one server checked: the same per server. */
  servers?: { server: string; violations: number; roundTrips: number; seconds: number }[];
}

export interface TenantVerdict {
  id: string;
  /** The server it lives on (the placements map's word). */
  server: string;
  /** Its registry status; `unreachable` (its server could not be read: see error) or `missing` (the map names it, its server has no row). */
  status: string;
  ok: boolean;
  violations: number;
  error?: string;
}

/** A server of the fleet as verify saw it. */
export interface ServerVerdict {
  server: string;
  /** Its tenants this run reports on. */
  tenants: number;
  /** Its checks ran (false: unreachable, not initialised, or none of its tenants named). */
  checked: boolean;
  /** Why it could not be read (then its tenants are unreachable: exit 3). */
  error?: string;
}

export interface VerifyResult {
  /** No violation at or above failOn, in any check, and every server read. */
  ok: boolean;
  failOn: FailOn;
  tenants: TenantVerdict[];
  checks: CheckResult[];
  violations: Violation[];
  /** Worth knowing, not violations: e.g. tables verified by a full scan for want of an index. */
  notes: Note[];
  /** Every server of the fleet, home ("default") first. */
  servers: ServerVerdict[];
  /** Tenants on servers that could not be read: not verified (the CLI exits 3 unless a violation makes it 1). */
  unreachable: { id: string; server: string; error: string }[];
  stats: { roundTrips: number; seconds: number };
}
