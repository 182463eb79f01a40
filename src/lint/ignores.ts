// Deliberate exceptions: a `-- tenantctl-lint: ignore RULE[, RULE]` comment right before a statement
// silences those rules for it; in a JS migration, `// tenantctl-lint: ignore RULE` anywhere in the file
// silences them for the whole migration (its SQL is generated, so it has no comments of its own).
import { readFileSync } from 'node:fs';

const MARK = /tenantctl-lint:\s*ignore\s+([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)/g;

/** The rules named by every ignore mark in `text` (comment text, or a whole JS file). */
export function ignoredRules(text: string): Set<string> {
  const rules = new Set<string>();
  for (const m of text.matchAll(MARK)) for (const id of m[1]!.split(',')) rules.add(id.trim());
  return rules;
}

/** A JS migration's file-wide ignores; none for SQL files (theirs sit before each statement). */
export function migrationIgnores(kind: 'sql' | 'js', path: string): Set<string> {
  if (kind === 'sql') return new Set();
  try {
    return ignoredRules(readFileSync(path, 'utf8'));
  } catch {
    return new Set();
  }
}
