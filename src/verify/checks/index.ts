import type { CheckDefinition, CheckId } from '../types.js';
import { driftCheck } from './drift.js';
import { ownershipCheck } from './ownership.js';
import { privilegesCheck } from './privileges.js';
import { referencesCheck } from './references.js';
import { registryCheck } from './registry-check.js';
import { rlsCheck } from './rls.js';

/** Every check, in the order verify runs them. */
export const CHECKS: readonly CheckDefinition[] = [ownershipCheck, referencesCheck, privilegesCheck, rlsCheck, driftCheck, registryCheck];

export const CHECKS_BY_ID: ReadonlyMap<CheckId, CheckDefinition> = new Map(CHECKS.map((c) => [c.id, c]));
