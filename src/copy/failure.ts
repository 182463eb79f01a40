import { describeError, TenantctlError } from '../errors.js';
import { isConnectionLoss } from '../db/with.js';
import type { KeyConflict } from './types.js';

/** A run that could not finish and changed nothing: reported as a result (exit 1), not thrown to the user. */
export class TransferFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly conflicts?: KeyConflict[],
  ) {
    super(message);
  }
}

const RETRY = /^(40|53|55P03|57P0)/;

/**
 * What an error inside a run becomes. Bad input and tenantctl's own errors
 * are rethrown (exit 2, 3); a lost connection, a lock or serialization
 * failure is rethrown for the exit-3 mapping (worth retrying); a failure of
 * the SQL itself (a constraint, a check, a timeout) is the run's result.
 * Anything else is a bug and is rethrown (exit 4).
 */
export function asFailure(err: unknown): TransferFailure {
  if (err instanceof TransferFailure) return err;
  if (err instanceof TenantctlError || isConnectionLoss(err)) throw err;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || RETRY.test(code)) throw err;
  return new TransferFailure(code === '57014' ? 'timeout' : 'sql_error', `${describeError(err)} (SQLSTATE ${code}); nothing was changed`);
}
