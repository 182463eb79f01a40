/**
 * Rows in an order where each comes after those it needs (a partition after
 * its parent, a view after the views it reads): `needs` names the oids a row
 * waits for among the others. A cycle or a need outside the set that never
 * comes is an error (unsupported.ts refuses those first).
 */
export function dependencyOrder<T extends { oid: number; sql: string }>(
  rows: readonly T[],
  needs: (row: T) => readonly number[],
): string[] {
  const known = new Set(rows.map((r) => r.oid));
  const made = new Set<number>();
  const out: string[] = [];
  let pending = [...rows];
  while (pending.length > 0) {
    const ready = pending.filter((r) => needs(r).every((o) => !known.has(o) || made.has(o)));
    if (ready.length === 0) throw new Error(`objects that need each other in a cycle: ${pending.map((r) => r.oid).join(', ')}`);
    for (const r of ready) {
      out.push(r.sql);
      made.add(r.oid);
    }
    pending = pending.filter((r) => !made.has(r.oid));
  }
  return out;
}
