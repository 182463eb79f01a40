/**
 * Errors that are not per-tenant results. Each carries a stable snake_case code
 * (the JSON envelope's `error.code`) and the exit code the CLI maps it to.
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

/** SQLSTATE classes that mean "the server, not the input": connection and lock trouble. */
const RETRYABLE_SQLSTATE = /^(08|53|57P0[1-3]|55P03|40001|40P01)/;
const NODE_CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE']);

/** Turns anything thrown into a TenantctlError, keeping codes that already have a meaning. */
export function toTenantctlError(err: unknown): TenantctlError {
  if (err instanceof TenantctlError) return err;
  const e = err as { code?: string; message?: string } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (NODE_CONNECTION_ERRORS.has(code) || /Connection terminated|connect ETIMEDOUT|timeout expired/i.test(message)) {
    return new DatabaseError('connection_failed', `cannot reach the database: ${message}; check --database-url and that the server is up`);
  }
  if (code === '28P01' || code === '28000') {
    return new DatabaseError('authentication_failed', `authentication failed: ${message}; check the user and password in --database-url`);
  }
  if (code === '3D000') {
    return new DatabaseError('database_missing', `${message}; create it first or fix --database-url`);
  }
  if (RETRYABLE_SQLSTATE.test(code)) {
    return new DatabaseError('database_unavailable', `${message} (SQLSTATE ${code}); retry`);
  }
  if (/^[0-9A-Z]{5}$/.test(code)) {
    // The server refused a statement (a permission, a constraint): it ran and failed.
    return new TenantctlError('sql_error', `${message} (SQLSTATE ${code}); nothing was changed`, 1);
  }
  return new TenantctlError('internal_error', `internal error: ${message}; rerun with --verbose and report it`, 4);
}

/** A message for one tenant's failure inside a result (not thrown). */
export function describeError(err: unknown): string {
  const e = err as { message?: string; code?: string; position?: string; detail?: string } | undefined;
  let text = typeof e?.message === 'string' ? e.message : String(err);
  if (e?.detail) text += ` (${e.detail})`;
  return text;
}
