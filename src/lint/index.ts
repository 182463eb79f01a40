// Static lint of migrations for what locks or rewrites a live table: the public API of this area.
export { lintFiles, validateLintFiles, type LintFilesOptions } from './files.js';
export { lintPending, type LintPendingOptions } from './pending.js';
export {
  RULES as LINT_RULES,
  RULE_IDS as LINT_RULE_IDS,
  type RuleDefinition as LintRuleDefinition,
  type RuleId as LintRuleId,
} from './rules.js';
export type { LintFinding, LintResult, LintedMigration } from './types.js';
