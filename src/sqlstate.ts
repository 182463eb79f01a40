/**
 * PostgreSQL error codes (SQLSTATE) by name, and the one classifier that says
 * what an error means for a run: the connection is gone, the server asks for a
 * retry, a statement was refused, or something else went wrong.
 */
export const SQLSTATE = {
  UNIQUE_VIOLATION: '23505',
  DUPLICATE_OBJECT: '42710',
  DUPLICATE_SCHEMA: '42P06',
  UNDEFINED_TABLE: '42P01',
  UNDEFINED_COLUMN: '42703',
  UNDEFINED_SCHEMA: '3F000',
  UNDEFINED_FUNCTION: '42883',
  UNDEFINED_OBJECT: '42704',
  INSUFFICIENT_PRIVILEGE: '42501',
  SYNTAX_ERROR: '42601',
  INVALID_PARAMETER_VALUE: '22023',
  READ_ONLY_SQL_TRANSACTION: '25006',
  QUERY_CANCELED: '57014',
  ADMIN_SHUTDOWN: '57P01',
  CRASH_SHUTDOWN: '57P02',
  CANNOT_CONNECT_NOW: '57P03',
  LOCK_NOT_AVAILABLE: '55P03',
  OBJECT_IN_USE: '55006',
  SERIALIZATION_FAILURE: '40001',
  DEADLOCK_DETECTED: '40P01',
  INVALID_PASSWORD: '28P01',
  INVALID_AUTHORIZATION: '28000',
  INVALID_CATALOG_NAME: '3D000',
} as const;

/**
 * - connection: the connection is lost or cannot be made (the session is unusable);
 * - auth: the server refused the credentials;
 * - missing-database: the database in the URL does not exist;
 * - retryable: a lock timeout, deadlock, serialization failure or lack of resources; the same work may succeed later;
 * - timeout: statement_timeout (or a cancel) ended a statement;
 * - statement: the server refused a statement (a constraint, a permission, a syntax error);
 * - bug: not a server error at all.
 */
export type ErrorClass = 'connection' | 'auth' | 'missing-database' | 'retryable' | 'timeout' | 'statement' | 'bug';

const NODE_CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', 'EAI_AGAIN']);
const CONNECTION_MESSAGES =
  /Connection terminated|ECONNRESET|EPIPE|Client has encountered a connection error|connect ETIMEDOUT|timeout expired|Client was closed/i;
const SQLSTATE_SHAPE = /^[0-9A-Z]{5}$/;

export function sqlstateOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && SQLSTATE_SHAPE.test(code) ? code : undefined;
}

export function classify(err: unknown): ErrorClass {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (NODE_CONNECTION_CODES.has(code)) return 'connection';
  if (SQLSTATE_SHAPE.test(code)) {
    if (
      code.startsWith('08') ||
      code === SQLSTATE.ADMIN_SHUTDOWN ||
      code === SQLSTATE.CRASH_SHUTDOWN ||
      code === SQLSTATE.CANNOT_CONNECT_NOW
    )
      return 'connection';
    if (code.startsWith('28')) return 'auth';
    if (code === SQLSTATE.INVALID_CATALOG_NAME) return 'missing-database';
    if (code.startsWith('40') || code.startsWith('53') || code === SQLSTATE.LOCK_NOT_AVAILABLE) return 'retryable';
    if (code === SQLSTATE.QUERY_CANCELED) return 'timeout';
    return 'statement';
  }
  if (CONNECTION_MESSAGES.test(message)) return 'connection';
  return 'bug';
}

/** The session cannot be used any more: give the connection up, do not reuse it. */
export function isConnectionLoss(err: unknown): boolean {
  return classify(err) === 'connection';
}

/** A lock timeout, deadlock or serialization failure: the same work may succeed when tried again. */
export function isRetryable(err: unknown): boolean {
  return classify(err) === 'retryable';
}
