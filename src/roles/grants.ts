import type { Config } from '../config/types.js';
import type { Queryable } from '../db/types.js';
import { ident, literal } from '../util/quote.js';

/**
 * The shared role every tenant role belongs to: USAGE on the shared schema and
 * SELECT on its tables, now and later. Idempotent and safe when runs race.
 */
export async function ensureSharedRole(db: Queryable, config: Config, sharedRole: string): Promise<void> {
  const role = ident(sharedRole);
  const shared = ident(config.sharedSchema);
  await db.query(`DO $do$ BEGIN
      CREATE ROLE ${role} NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $do$;
    GRANT USAGE ON SCHEMA ${shared} TO ${role};
    GRANT SELECT ON ALL TABLES IN SCHEMA ${shared} TO ${role};
    ALTER DEFAULT PRIVILEGES IN SCHEMA ${shared} GRANT SELECT ON TABLES TO ${role};`);
}

/**
 * A tenant's role: USAGE on its own schema only, the table, sequence and
 * function privileges an application needs, on what exists and (default
 * privileges) on what later migrations create. Runs in the create transaction.
 * With `login` (Citus): the coordinator reaches the workers as the current
 * user, so a session acting as the tenant needs a role that may log in there
 * (it has no password; the workers' authentication decides, see docs/citus.md).
 */
export function createTenantRoleSql(schema: string, tenantRole: string, sharedRole: string, options: { login?: boolean } = {}): string {
  const role = ident(tenantRole);
  const s = ident(schema);
  return `CREATE ROLE ${role} ${options.login ? 'LOGIN' : 'NOLOGIN'};
    GRANT ${ident(sharedRole)} TO ${role};
    REVOKE ALL ON SCHEMA ${s} FROM PUBLIC;
    GRANT USAGE ON SCHEMA ${s} TO ${role};
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${role};
    GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${s} TO ${role};
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} TO ${role};
    ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${role};
    ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${role};
    ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT EXECUTE ON FUNCTIONS TO ${role}`;
}

/**
 * Functions are executable by PUBLIC unless revoked, and per-schema default
 * privileges cannot take that away: after migrations, revoke it explicitly.
 */
export function revokePublicSql(schema: string): string {
  const s = ident(schema);
  return `REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${s} FROM PUBLIC; REVOKE ALL ON SCHEMA ${s} FROM PUBLIC;`;
}

/** Archive: the role keeps nothing it could reach data with. */
export async function revokeTenantAccess(db: Queryable, schema: string, tenantRole: string, sharedRole: string): Promise<void> {
  const role = ident(tenantRole);
  await db.query(`REVOKE ALL ON SCHEMA ${ident(schema)} FROM ${role};
    REVOKE ${ident(sharedRole)} FROM ${role};
    ALTER ROLE ${role} NOLOGIN;`);
}

/** Restore: give back what archive took (on Citus, `login` too: see createTenantRoleSql). */
export async function grantTenantAccess(
  db: Queryable,
  schema: string,
  tenantRole: string,
  sharedRole: string,
  options: { login?: boolean } = {},
): Promise<void> {
  const role = ident(tenantRole);
  await db.query(`GRANT USAGE ON SCHEMA ${ident(schema)} TO ${role};
    GRANT ${ident(sharedRole)} TO ${role};${
      options.login
        ? `
    ALTER ROLE ${role} LOGIN;`
        : ''
    }`);
}

/** Purge: privileges and default privileges in this database, then the role (if it is still there). */
export async function dropTenantRole(db: Queryable, tenantRole: string): Promise<void> {
  const name = literal(tenantRole);
  await db.query(`DO $do$ BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${name}) THEN
        EXECUTE 'DROP OWNED BY ' || quote_ident(${name});
        EXECUTE 'DROP ROLE ' || quote_ident(${name});
      END IF;
    END $do$;`);
}
