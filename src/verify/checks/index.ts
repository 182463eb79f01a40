// The list of checks, in the order verify runs them.
import type { CheckDefinition, CheckId } from '../types.js';
import { driftCheck } from './drift/check.js';
import { ownershipCheck } from './ownership/check.js';
import { privilegesCheck } from './privileges/check.js';
import { referencesCheck } from './references/check.js';
import { registryCheck } from './registry/check.js';
import { rlsCheck } from './rls/check.js';

/** Every check, in the order verify runs them. */
export const CHECKS: readonly CheckDefinition[] = [ownershipCheck, referencesCheck, privilegesCheck, rlsCheck, driftCheck, registryCheck];

export const CHECKS_BY_ID: ReadonlyMap<CheckId, CheckDefinition> = new Map(CHECKS.map((c) => [c.id, c]));
