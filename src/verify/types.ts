// The shapes verify works with: checks, findings, violations, options and the result.
import type { TenantWithJournal } from '../control/tenants.js';
import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
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
}

/** Something a check noticed that is not a violation. */
export interface Note {
  check: CheckId;
  tenant: string | null;
  object: string;
  detail: string;
}

export interface Violation {
  check: CheckId;
  /** The stable id of this kind of violation within its check (docs/verify.md lists them). */
  rule: string;
  tenant: string | null;
  object: string;
  detail: string;
  level: Level;
  remediation: string;
}

/** Everything a check needs, read once for the whole run. */
export interface VerifyScope {
  ctx: Context;
  /** A catalog session: one connection, JIT off, search_path = pg_catalog (see session.ts). Catalog queries go here. */
  db: Queryable;
  /** Any pooled connection: for statements that may run side by side (the ownership probes). */
  pool: Queryable;
  /** The tenants this run reports on (all, or those named with --tenant). */
  tenants: TenantWithJournal[];
  /** Every registered tenant: "another tenant" means any of these. */
  registry: TenantWithJournal[];
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
  /** Statements this check sent, and its wall time. */
  roundTrips: number;
  seconds: number;
}

export interface TenantVerdict {
  id: string;
  status: string;
  ok: boolean;
  violations: number;
}

export interface VerifyResult {
  /** No violation at or above failOn, in any check. */
  ok: boolean;
  failOn: FailOn;
  tenants: TenantVerdict[];
  checks: CheckResult[];
  violations: Violation[];
  /** Worth knowing, not violations: e.g. tables verified by a full scan for want of an index. */
  notes: Note[];
  stats: { roundTrips: number; seconds: number };
}
