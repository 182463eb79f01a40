import { literal } from '../util/quote.js';

/**
 * Advisory lock keys. A lock per tenant, derived from the control schema and the
 * tenant id (two int4 keys: hashtext of each), so two runs never work on the same
 * tenant at once, and two installations in one database never block each other.
 * The control schema itself has its own key. The *_PARAMS forms bind the control
 * schema as $1 and the tenant id as $2 (for queries that watch pg_locks).
 */
export const TENANT_LOCK_KEYS_PARAMS = `hashtext('tenantctl:' || $1::text), hashtext($2::text)`;

export function tenantLockKeys(controlSchema: string, id: string): string {
  return `hashtext(${literal(`tenantctl:${controlSchema}`)}), hashtext(${literal(id)})`;
}

export function controlLockKeys(controlSchema: string): string {
  return `hashtext(${literal(`tenantctl-control:${controlSchema}`)}), 0`;
}

/** tenantLockKeys for an id held in a SQL expression (a column), not a literal. */
export function tenantLockKeysOf(controlSchema: string, idExpr: string): string {
  return `hashtext(${literal(`tenantctl:${controlSchema}`)}), hashtext(${idExpr})`;
}
