import { classify, sqlstateOf } from './sqlstate.js';

/**
 * Errors that are not per-tenant results. Each carries a stable snake_case code
 * (the JSON envelope's `error.code`) and the exit code the CLI maps it to. Codes
 * that more than one place raises have one factory below, so their wording
 * cannot drift.
 */
export type ExitCode = 0 | 1 | 2 | 3 | 4;

export class TenantctlError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, exitCode: ExitCode, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.details = details;
  }
}

/** Bad input: usage, an invalid id, an unknown tenant, bad config. Nothing was changed. */
export class InputError extends TenantctlError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, message, 2, details);
  }
}

/** The database: cannot connect, authentication failed, a lock is held. Worth retrying. */
export class DatabaseError extends TenantctlError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, message, 3, details);
  }
}

/**
 * A run that could not finish and changed nothing (a conflict, a failed
 * statement, a timeout): the command reports it as its result, exit 1.
 */
export class RunFailure extends TenantctlError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, message, 1, details);
  }
}

const restoreHint = (id: string) => `restore it first with \`tenantctl tenant restore ${id}\``;

export const tenantArchived = (id: string) => new InputError('tenant_archived', `tenant "${id}" is archived; ${restoreHint(id)}`, { id });
export const tenantGoneMeanwhile = (id: string) =>
  new InputError('tenant_archived', `tenant "${id}" was archived or removed meanwhile; nothing changed`, { id });
export const tenantLocked = (id: string) =>
  new DatabaseError('tenant_locked', `another tenantctl run holds tenant "${id}"; retry when it finishes`, { id });
export const tenantExists = (id: string) =>
  new InputError('tenant_exists', `tenant "${id}" already exists; pick another id or see \`tenantctl tenant show ${id}\``, { id });
export const schemaExists = (schema: string) =>
  new InputError('schema_exists', `schema "${schema}" already exists but is not a tenant; drop it or pick another id`, { schema });
export const keyTaken = (key: string, owner: string) =>
  new InputError(
    'key_taken',
    `key ${JSON.stringify(key)} already belongs to tenant "${owner}"; two tenants with one key see each other's shared rows; pick another key`,
    { key, owner },
  );
export const roleExists = (role: string) =>
  `role "${role}" already exists (left behind by a dropped database?); drop it with DROP ROLE, then retry`;
export function unknownTenants(ids: readonly string[]): InputError {
  const list = ids.map((id) => JSON.stringify(id)).join(', ');
  return new InputError('unknown_tenant', `unknown tenant ${list}; see \`tenantctl tenant list\``, { ids });
}
export const notInitialised = (controlSchema: string) =>
  new InputError(
    'not_initialised',
    `tenantctl is not initialised in this database (no control schema "${controlSchema}"); run tenantctl init`,
  );
/** A server of the fleet that holds tenants could not be read: its tenants fail (exit 3), not the run. */
export const serverUnreachable = (server: string, why: string) =>
  new DatabaseError('server_unreachable', `server "${server}" ${why}`, { server });
export const usage = (message: string) => new InputError('usage', message);
/** Two tenants a command works on together are on different servers of the fleet (copy, move, clone). */
export const differentServers = (command: string, a: { id: string; server: string }, b: { id: string; server: string }) =>
  new InputError(
    'different_servers',
    `tenants "${a.id}" (server ${a.server}) and "${b.id}" (server ${b.server}) are on different servers; ${command} works within one server; move a whole tenant with \`tenantctl tenant relocate ${b.id} --to ${a.server}\``,
    { ids: [a.id, b.id], servers: [a.server, b.server] },
  );
export const sqlFailed = (what: string, err: unknown) => new RunFailure('sql_error', `${what}: ${describeError(err)}; nothing was changed`);

/** Turns anything thrown into a TenantctlError, keeping codes that already have a meaning. */
export function toTenantctlError(err: unknown): TenantctlError {
  if (err instanceof TenantctlError) return err;
  const message = oneLine(typeof (err as { message?: unknown })?.message === 'string' ? (err as Error).message : String(err));
  const code = sqlstateOf(err);
  switch (classify(err)) {
    case 'connection':
      return new DatabaseError(
        'connection_failed',
        `cannot reach the database: ${message}; check --database-url and that the server is up`,
      );
    case 'auth':
      return new DatabaseError('authentication_failed', `authentication failed: ${message}; check the user and password in --database-url`);
    case 'missing-database':
      return new DatabaseError('database_missing', `${message}; create it first or fix --database-url`);
    case 'retryable':
      return new DatabaseError('database_unavailable', `${message} (SQLSTATE ${code}); retry`);
    case 'timeout':
    case 'statement':
      // The server refused a statement (a permission, a constraint, a timeout): it ran and failed.
      return new RunFailure('sql_error', `${message} (SQLSTATE ${code}); nothing was changed`);
    case 'bug':
      return new TenantctlError('internal_error', `internal error: ${message}; rerun with --verbose and report it`, 4);
  }
}

/** A message for one tenant's failure inside a result (not thrown): one line, with the server's detail. */
export function describeError(err: unknown): string {
  const e = err as { message?: string; detail?: string } | undefined;
  let text = typeof e?.message === 'string' ? e.message : String(err);
  if (e?.detail) text += ` (${e.detail})`;
  return oneLine(text);
}

/** Folds a multi-line message onto one line. */
export function oneLine(text: string): string {
  return text.trim().replace(/\s*\n\s*/g, '; ');
}
