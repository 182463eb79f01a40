/** A foreign key as an edge of the table graph: child references parent. */
export interface Edge {
  child: string;
  parent: string;
}

/** Tables that reference each other (a strongly connected component), written together. */
export interface TableGroup {
  tables: string[];
  /** More than one table, or a table that references itself: selection needs a fixpoint. */
  cyclic: boolean;
}

/**
 * Groups of the table graph in insert order: every group comes after the
 * groups it references (parents first). Tarjan's algorithm for the groups,
 * then Kahn's for their order, ties broken by name so plans are stable.
 */
export function insertOrder(tables: readonly string[], edges: readonly Edge[]): TableGroup[] {
  const names = [...tables].sort();
  const inScope = new Set(names);
  const parents = new Map<string, string[]>(names.map((t) => [t, []]));
  for (const e of edges) if (inScope.has(e.child) && inScope.has(e.parent)) parents.get(e.child)!.push(e.parent);

  const component = new Map<string, number>();
  const groups: string[][] = [];
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of parents.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.set(w, groups.length);
        group.push(w);
      } while (w !== v);
      groups.push(group.sort());
    }
  };
  for (const t of names) if (!index.has(t)) visit(t);

  const needs = groups.map(() => new Set<number>());
  const selfRef = new Set<number>();
  for (const [child, ps] of parents) {
    for (const p of ps) {
      const a = component.get(child)!;
      const b = component.get(p)!;
      if (a === b) selfRef.add(a);
      else needs[a]!.add(b);
    }
  }
  const order: TableGroup[] = [];
  const done = new Set<number>();
  while (order.length < groups.length) {
    const ready = groups
      .map((g, i) => ({ g, i }))
      .filter(({ i }) => !done.has(i) && [...needs[i]!].every((n) => done.has(n)))
      .sort((x, y) => x.g[0]!.localeCompare(y.g[0]!));
    const next = ready[0]!;
    done.add(next.i);
    order.push({ tables: next.g, cyclic: next.g.length > 1 || selfRef.has(next.i) });
  }
  return order;
}

/** `start` and every table that references one of them, directly or through others. */
export function withDescendants(start: Iterable<string>, edges: readonly Edge[]): Set<string> {
  return closure(
    start,
    edges,
    (e) => e.parent,
    (e) => e.child,
  );
}

/** `start` and every table one of them references, directly or through others. */
export function withAncestors(start: Iterable<string>, edges: readonly Edge[]): Set<string> {
  return closure(
    start,
    edges,
    (e) => e.child,
    (e) => e.parent,
  );
}

function closure(start: Iterable<string>, edges: readonly Edge[], from: (e: Edge) => string, to: (e: Edge) => string): Set<string> {
  const seen = new Set(start);
  const queue = [...seen];
  while (queue.length > 0) {
    const t = queue.pop()!;
    for (const e of edges) {
      if (from(e) === t && !seen.has(to(e))) {
        seen.add(to(e));
        queue.push(to(e));
      }
    }
  }
  return seen;
}
