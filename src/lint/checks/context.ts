// What every check gets: the run's state, whether the migration is transactional, and a way to report.
import type { Level } from '../../verify/types.js';
import type { RuleId } from '../rules.js';
import type { RunState } from '../state.js';

export interface CheckContext {
  state: RunState;
  /** The migration runs inside a transaction (it does not call pgm.noTransaction()). */
  transactional: boolean;
  /** `at`: a byte offset (a node's location) to point the line at; default the statement's start. */
  report(rule: RuleId, message: string, options?: { level?: Level; at?: number }): void;
}

/** A check of one statement type; it reports findings and may update the run's state. */
export type Check<T> = (statement: T, ctx: CheckContext) => void;
