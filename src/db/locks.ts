/**
 * Advisory lock keys. A lock per tenant, derived from the control schema and the
 * tenant id (two int4 keys: hashtext of each), so two runs never work on the same
 * tenant at once, and two installations in one database never block each other.
 * The control schema itself has its own key.
 */
export const TENANT_LOCK_KEYS = `hashtext('tenantctl:' || $1::text), hashtext($2::text)`;
export const CONTROL_LOCK_KEYS = `hashtext('tenantctl-control:' || $1::text), 0`;
