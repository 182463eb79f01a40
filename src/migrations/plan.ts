import type { LoadedMigration } from './types.js';

export interface JournalEntry {
  name: string;
  checksum: string;
}

export interface TenantPlanState {
  /** Files not yet applied, in file order, up to the target. */
  pending: LoadedMigration[];
  /** Journal entries whose file is gone from disk. */
  missing: string[];
  /** Journal entries whose file changed since it ran. */
  changed: string[];
  /** A pending file that sorts before an applied one: node-pg-migrate refuses that order. */
  outOfOrder?: { pending: string; applied: string };
}

/** Compares one tenant's journal with the migration files; `toIndex` caps the target (inclusive). */
export function planUp(files: readonly LoadedMigration[], journal: readonly JournalEntry[], toIndex = files.length - 1): TenantPlanState {
  const applied = new Map(journal.map((j) => [j.name, j.checksum]));
  const fileNames = new Set(files.map((f) => f.name));
  const missing = journal.filter((j) => !fileNames.has(j.name)).map((j) => j.name);
  const changed: string[] = [];
  let lastApplied = -1;
  files.forEach((f, i) => {
    const sum = applied.get(f.name);
    if (sum === undefined) return;
    lastApplied = i;
    if (sum !== f.checksum) changed.push(f.name);
  });
  const pending = files.slice(0, toIndex + 1).filter((f) => !applied.has(f.name));
  const first = pending[0];
  const firstIndex = first ? files.indexOf(first) : -1;
  const outOfOrder = first && firstIndex < lastApplied ? { pending: first.name, applied: files[lastApplied]!.name } : undefined;
  return { pending, missing, changed, outOfOrder };
}

/**
 * What `migrate down` reverts, newest first: the last `count` applied (default 1),
 * or every applied migration after `toName`. A journal entry without its file
 * cannot be reverted, so it is an error rather than silently passed over.
 */
export function planDown(
  files: readonly LoadedMigration[],
  journal: readonly JournalEntry[],
  target: { count?: number; toName?: string },
): { revert: LoadedMigration[]; error?: string } {
  const applied = new Set(journal.map((j) => j.name));
  const fileNames = new Set(files.map((f) => f.name));
  const orphan = journal.find((j) => !fileNames.has(j.name));
  if (orphan) return { revert: [], error: `migration ${orphan.name} is applied but its file is missing; put the file back to roll back` };
  const inOrder = files.filter((f) => applied.has(f.name));
  if (target.toName !== undefined && !applied.has(target.toName)) {
    return {
      revert: [],
      error: `migration ${target.toName} is not applied to this tenant, so there is nothing to roll back to; use --count`,
    };
  }
  const from =
    target.toName !== undefined
      ? inOrder.findIndex((f) => f.name === target.toName) + 1
      : Math.max(0, inOrder.length - (target.count ?? 1));
  return { revert: inOrder.slice(from).reverse() };
}
