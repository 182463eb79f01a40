// One run of migrations, in the order they would apply: render each, parse its SQL, run the checks
// statement by statement with what the earlier statements of the run created or added.
import type { RenderedMigration } from '../migrations/render.js';
import { checkStatement } from './checks/index.js';
import type { CheckContext, CitusLint } from './checks/context.js';
import { ignoredRules, migrationIgnores } from './ignores.js';
import { parseSql, type ParsedStatement } from './parse.js';
import { RULES, type RuleId } from './rules.js';
import { SourceText } from './source-text.js';
import { RunState } from './state.js';
import type { Level, LintFinding } from './types.js';

/**
 * Consecutive transactional migrations share a transaction (tenantctl applies a tenant's pending
 * migrations in one); a migration that calls pgm.noTransaction() runs on its own.
 */
export async function lintRun(
  migrations: readonly RenderedMigration[],
  options: { citus?: Omit<CitusLint, 'unsafeTriggers'> } = {},
): Promise<LintFinding[]> {
  const state = new RunState();
  const citus: CitusLint | undefined = options.citus ? { ...options.citus, unsafeTriggers: false } : undefined;
  const findings: LintFinding[] = [];
  for (const m of migrations) {
    if (!m.transactional) state.endTransaction();
    if (citus && !m.transactional) citus.unsafeTriggers = false;
    const fileIgnores = migrationIgnores(m.kind, m.path);
    const add = (rule: RuleId, line: number | null, statement: string, message: string, level?: Level) => {
      if (fileIgnores.has(rule)) return;
      findings.push({
        rule,
        level: level ?? RULES[rule].level,
        migration: m.name,
        file: m.path,
        line,
        statement,
        message,
        fix: RULES[rule].fix,
      });
    };
    if (m.error) add('render-failed', null, '', `${m.name}: the up function threw: ${m.error}`);
    if (m.queriedDatabase)
      add(
        'migration-queries-database',
        null,
        '',
        `${m.name} queries the database while it builds its SQL; only the SQL built before that was linted`,
      );
    for (const step of m.steps) {
      const source = new SourceText(step, m.source);
      const parsed = await parseSql(step);
      if (!parsed.ok) {
        add('syntax-error', source.lineAt(parsed.offset), source.excerpt(parsed.offset, 80), `the SQL does not parse: ${parsed.message}`);
        continue;
      }
      parsed.statements.forEach((st, i) => {
        const start = source.start(st.offset, st.length);
        const end = st.offset + st.length;
        const excerpt = source.excerpt(start, end - start);
        const ignored = ignoredRules(ownComments(source, parsed.statements, i));
        const ctx: CheckContext = {
          state,
          transactional: m.transactional,
          ...(citus ? { citus } : {}),
          report: (rule, message, options = {}) => {
            if (ignored.has(rule)) return;
            const at = options.at !== undefined && options.at >= start ? options.at : start;
            add(rule, source.lineAt(at), excerpt, message, options.level);
          },
        };
        checkStatement(st.type, st.node, ctx);
      });
    }
    if (!m.transactional) state.endTransaction();
    if (citus && !m.transactional) citus.unsafeTriggers = false;
  }
  return findings;
}

/**
 * The comments that belong to statement i: the lines between the previous statement's line and it, and
 * the rest of its own last line. Between statements there are only comments, blanks and semicolons.
 */
function ownComments(source: SourceText, statements: readonly ParsedStatement[], i: number): string {
  const st = statements[i]!;
  const previous = statements[i - 1];
  const next = statements[i + 1];
  const before = source.slice(previous ? previous.offset + previous.length : 0, st.offset);
  const after = source.slice(st.offset + st.length, next ? next.offset : source.length);
  const leading = previous ? before.slice(before.indexOf('\n') + 1 || before.length) : before;
  const trailing = after.split('\n', 1)[0] ?? '';
  return `${leading}\n${trailing}`;
}
