import { describeError, RunFailure, TenantctlError } from '../errors.js';
import { classify, sqlstateOf } from '../sqlstate.js';
import type { KeyConflict } from './types.js';

/** A run that could not finish and changed nothing: reported as a result (exit 1), not thrown to the user. */
export class TransferFailure extends RunFailure {
  constructor(
    code: string,
    message: string,
    readonly conflicts?: KeyConflict[],
  ) {
    super(code, message);
  }
}

/**
 * What an error inside a run becomes. Bad input and tenantctl's own errors
 * are rethrown (exit 2, 3); a lost connection, a lock or serialization
 * failure is rethrown for the exit-3 mapping (worth retrying); a failure of
 * the SQL itself (a constraint, a check, a timeout) is the run's result.
 * Anything else is a bug and is rethrown (exit 4).
 */
export function asFailure(err: unknown): TransferFailure {
  if (err instanceof TransferFailure) return err;
  if (err instanceof TenantctlError) throw err;
  const kind = classify(err);
  if (kind === 'timeout') return new TransferFailure('timeout', `${describeError(err)} (SQLSTATE ${sqlstateOf(err)}); nothing was changed`);
  if (kind === 'statement')
    return new TransferFailure('sql_error', `${describeError(err)} (SQLSTATE ${sqlstateOf(err)}); nothing was changed`);
  throw err;
}
