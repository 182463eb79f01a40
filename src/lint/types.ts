// The shapes of a lint run: findings (rule, level, where, what, how to fix) and the result a caller gates on.
import type { FailOn, Level } from '../verify/types.js';
import type { RuleId } from './rules.js';

export type { FailOn, Level };

export interface LintFinding {
  rule: RuleId;
  level: Level;
  /** The migration's name (its file name without the extension). */
  migration: string;
  /** The migration file's path. */
  file: string;
  /** The line in the file (SQL files); null for JS migrations, whose SQL is generated. */
  line: number | null;
  /** The statement, shortened to one line. */
  statement: string;
  message: string;
  fix: string;
}

export interface LintedMigration {
  name: string;
  file: string;
  kind: 'sql' | 'js';
  transactional: boolean;
}

export interface LintResult {
  /** No finding at or above failOn. */
  ok: boolean;
  failOn: FailOn;
  migrations: LintedMigration[];
  findings: LintFinding[];
  summary: Record<Level, number>;
}
