// From findings to the result a caller gates on: counts per level, and ok unless one is at or above failOn.
import { fails, type FailOn } from '../verify/types.js';
import type { RenderedMigration } from '../migrations/render.js';
import type { LintFinding, LintResult } from './types.js';

export function lintResult(migrations: readonly RenderedMigration[], findings: readonly LintFinding[], failOn: FailOn): LintResult {
  const unique = new Map<string, LintFinding>();
  // Several runs (tenants at different versions) can see the same statement: report it once.
  for (const f of findings) unique.set([f.file, f.line, f.rule, f.statement, f.message].join('\0'), f);
  const order = new Map(migrations.map((m, i) => [m.path, i]));
  const list = [...unique.values()].sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || (a.line ?? 0) - (b.line ?? 0));
  const summary = { error: 0, warn: 0, info: 0 };
  for (const f of list) summary[f.level]++;
  return {
    ok: !list.some((f) => fails(f.level, failOn)),
    failOn,
    migrations: migrations.map((m) => ({ name: m.name, file: m.path, kind: m.kind, transactional: m.transactional })),
    findings: list,
    summary,
  };
}
