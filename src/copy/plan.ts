import { InputError } from '../errors.js';
import { qualified } from '../util/quote.js';
import type { CatalogTable, ColumnSequence, SchemaCatalog } from './catalog.js';
import { assertSameStructure } from './compare.js';
import { insertOrder, withAncestors, withDescendants, type Edge, type TableGroup } from './graph.js';
import type { ValidOptions } from './options.js';

/** A key column that --remap-keys gives new values from the target's own sequence. */
export interface RemapColumn {
  /** Names its map: pg_temp.tc_map_<index> (old value -> new value). */
  index: number;
  table: string;
  column: string;
  type: string;
  /** The target's sequence for this column. */
  sequence: ColumnSequence;
}

export interface TransferPlan {
  source: SchemaCatalog;
  target: SchemaCatalog;
  /**
   * Staged: the rows to copy are first collected (by position, in temp tables)
   * from --table/--where, foreign-key dependents and missing parents. Not
   * staged: every row of every table, straight from the source.
   */
  staged: boolean;
  /** Tables whose rows are selected directly (--table). */
  seeds: string[];
  /** Seeds and every table referencing them: the rows that move. */
  carried: Set<string>;
  /** Every table the plan touches, in insert order within `groups`. */
  scope: string[];
  groups: TableGroup[];
  /** Foreign keys between tables of the plan. */
  edges: (Edge & { columns: string[]; refColumns: string[]; name: string })[];
  remap: RemapColumn[];
  ownershipColumn: string;
  /**
   * On a Citus coordinator: every statement that reads the tenants reads
   * coordinator-local copies of them (pg_temp.tc_src_<i>, pg_temp.tc_tgt_<i>,
   * see mirror.ts), so that no statement joins two colocation groups; only
   * the writes into the target and the move's deletes touch the tenants' tables.
   */
  mirrored: boolean;
}

export function planTransfer(
  source: SchemaCatalog,
  target: SchemaCatalog,
  options: Pick<ValidOptions, 'tables' | 'onConflict' | 'remapKeys' | 'from' | 'to'> & {
    move: boolean;
    ownershipColumn: string;
    mirrored?: boolean;
  },
): TransferPlan {
  const all = [...source.tables.keys()];
  for (const t of options.tables ?? []) {
    if (!source.tables.has(t)) {
      const list = all.length ? all.join(', ') : 'none';
      throw new InputError('unknown_table', `tenant "${options.from}" has no table "${t}" (its tables: ${list})`, { table: t });
    }
  }
  const edges = [...source.tables.values()].flatMap((t) =>
    t.foreignKeys.map((fk) => ({ child: fk.table, parent: fk.refTable, columns: fk.columns, refColumns: fk.refColumns, name: fk.name })),
  );
  const staged = options.tables !== undefined || options.onConflict === 'skip';
  const seeds = options.tables ?? all;
  const carried = withDescendants(seeds, edges);
  const scopeSet = withAncestors(carried, edges);
  const groups = insertOrder([...scopeSet], edges);
  const scope = groups.flatMap((g) => g.tables);
  assertSameStructure(source, target, scope, options);
  if (options.move) {
    const blocking = source.incoming.find((i) => carried.has(i.refTable));
    if (blocking) {
      throw new InputError(
        'foreign_references',
        `${blocking.schema}.${blocking.table} references ${source.schema}.${blocking.refTable} (constraint ${blocking.constraint}); moving rows out of ${blocking.refTable} could break it, so move is refused (copy works)`,
      );
    }
  }
  const remap: RemapColumn[] = [];
  if (options.remapKeys) {
    for (const name of scope) {
      const s = source.tables.get(name)!;
      const t = target.tables.get(name)!;
      for (const column of remappable(s, t, options.ownershipColumn)) {
        remap.push({ index: remap.length, table: name, column: column.name, type: column.type, sequence: column.sequence! });
      }
    }
  }
  return {
    source,
    target,
    staged,
    seeds,
    carried,
    scope,
    groups,
    edges: edges.filter((e) => scopeSet.has(e.child) && scopeSet.has(e.parent)),
    remap,
    ownershipColumn: options.ownershipColumn,
    mirrored: options.mirrored ?? false,
  };
}

/**
 * Key columns the target numbers itself: part of a primary key or unique key,
 * fed by an identity or a nextval default, not the ownership column and not
 * a foreign key (those follow the rows they point at).
 */
function remappable(source: CatalogTable, target: CatalogTable, ownership: string) {
  const inKey = new Set(source.keys.flatMap((k) => k.columns));
  const inForeignKey = new Set(source.foreignKeys.flatMap((fk) => fk.columns));
  return target.columns.filter((c) => c.sequence && !c.generated && c.name !== ownership && inKey.has(c.name) && !inForeignKey.has(c.name));
}

export function selTable(plan: TransferPlan, table: string): string {
  return `pg_temp.tc_sel_${plan.scope.indexOf(table)}`;
}

/** The relation statements read a source table's rows from: the tenant's table, or its coordinator-local copy (Citus). */
export function readSource(plan: TransferPlan, table: string): string {
  return plan.mirrored ? `pg_temp.tc_src_${plan.scope.indexOf(table)}` : qualified(plan.source.schema, table);
}

/** The relation statements check the target's existing keys in: the tenant's table, or its coordinator-local copy (Citus). */
export function readTarget(plan: TransferPlan, table: string): string {
  return plan.mirrored ? `pg_temp.tc_tgt_${plan.scope.indexOf(table)}` : qualified(plan.target.schema, table);
}

export function mapTable(column: RemapColumn): string {
  return `pg_temp.tc_map_${column.index}`;
}
