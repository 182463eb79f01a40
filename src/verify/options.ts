import { usage } from '../errors.js';
import { validateIds } from '../runtime/lookup.js';
import { parseFailOn, selectChecks } from './run.js';
import type { VerifyOptions } from './types.js';

/** Checks verify's options without a database: exit 2 for anything wrong. */
export function validateVerifyOptions(options: VerifyOptions): void {
  if (options.tenants !== undefined && options.tenants.length === 0)
    throw usage('--tenant needs at least one tenant id; leave it out to verify every tenant');
  if (options.checks !== undefined && options.checks.length === 0)
    throw usage('--check needs at least one check; leave it out to run every check');
  validateIds(options.tenants);
  selectChecks(options.checks);
  parseFailOn(options.failOn);
}
