// What every check gets: the run's state, whether the migration is transactional, and a way to report.
import type { Level } from '../../verify/types.js';
import type { RuleId } from '../rules.js';
import type { RunState } from '../state.js';

export interface CheckContext {
  state: RunState;
  /** The migration runs inside a transaction (it does not call pgm.noTransaction()). */
  transactional: boolean;
  /** On Citus (config "citus", or a coordinator init recorded): its rules apply; what SET LOCAL turned on so far in the transaction. */
  citus?: CitusLint;
  /** `at`: a byte offset (a node's location) to point the line at; default the statement's start. */
  report(rule: RuleId, message: string, options?: { level?: Level; at?: number }): void;
}

/** A check of one statement type; it reports findings and may update the run's state. */
export type Check<T> = (statement: T, ctx: CheckContext) => void;

/** What the Citus rules need: the config's reference tables and shared schema, and the run's transaction state. */
export interface CitusLint {
  referenceTables: 'all' | 'none' | string[];
  sharedSchema: string;
  /** citus.enable_unsafe_triggers was set on earlier in the transaction. */
  unsafeTriggers: boolean;
}
