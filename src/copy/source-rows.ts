import { ident } from '../util/quote.js';
import { mapTable, readSource, selTable, type RemapColumn, type TransferPlan } from './plan.js';

/** Which staged rows a statement reads: all selected, only those to write, or no staging join. */
export type Selection = 'selected' | 'written' | 'none';

export interface SourceRows {
  /** `FROM <source table> <alias>` with the staging join and one LEFT JOIN per map the row needs. */
  from: string;
  /** The SQL value column `name` takes in the target: the target's key, a new key, or the source value. */
  value(name: string): string;
  /** True when the column's target value comes from a --remap-keys map. */
  mapped(name: string): boolean;
}

/** The parameter every row statement binds first: the target tenant's key, as text. */
export const TARGET_KEY = '$1';

/** A statement and its values: the target key as $1 when the statement uses it (an unused parameter has no type). */
export function bindKey(sql: string, targetKey: string): { sql: string; values?: unknown[] } {
  return sql.includes(`${TARGET_KEY}::text`) ? { sql, values: [targetKey] } : { sql };
}

/**
 * A column's map: its own (a remapped key), or the map of the key it
 * references through a foreign key, followed as far as it goes.
 */
export function mapFor(plan: TransferPlan, table: string, column: string, seen = new Set<string>()): RemapColumn | undefined {
  const id = `${table}.${column}`;
  if (seen.has(id)) return undefined;
  seen.add(id);
  const own = plan.remap.find((r) => r.table === table && r.column === column);
  if (own) return own;
  for (const fk of plan.edges) {
    if (fk.child !== table) continue;
    const i = fk.columns.indexOf(column);
    if (i < 0) continue;
    const m = mapFor(plan, fk.parent, fk.refColumns[i]!, seen);
    if (m) return m;
  }
  return undefined;
}

/**
 * How one source table's rows look once rewritten for the target: the
 * ownership column set to the target's key (cast to the column's own type),
 * remapped keys and the references to them taken from the maps, every other
 * column as it is.
 */
export function sourceRows(
  plan: TransferPlan,
  table: string,
  options: { alias?: string; selection?: Selection; maps?: boolean } = {},
): SourceRows {
  const a = options.alias ?? 's';
  const src = plan.source.tables.get(table)!;
  const tgt = plan.target.tables.get(table)!;
  const joins: string[] = [];
  const selection = options.selection ?? (plan.staged ? 'selected' : 'none');
  if (selection !== 'none') {
    const k = `${a}_k`;
    joins.push(
      `JOIN ${selTable(plan, table)} ${k} ON ${k}.rel = ${a}.tableoid AND ${k}.rid = ${a}.ctid${selection === 'written' ? ` AND NOT ${k}.keep` : ''}`,
    );
  }
  const values = new Map<string, string>();
  const mappedCols = new Set<string>();
  const useMaps = options.maps ?? true;
  for (const c of src.columns) {
    if (c.generated) continue;
    if (c.name === plan.ownershipColumn) {
      const type = tgt.columns.find((t) => t.name === c.name)!.type;
      values.set(c.name, `CAST(${TARGET_KEY}::text AS ${type})`);
      continue;
    }
    const m = mapFor(plan, table, c.name);
    if (m) {
      mappedCols.add(c.name);
      if (useMaps) {
        const alias = `${a}_m${joins.length}`;
        joins.push(`LEFT JOIN ${mapTable(m)} ${alias} ON ${alias}.old = ${a}.${ident(c.name)}`);
        values.set(c.name, `${alias}.new`);
        continue;
      }
    }
    const targetType = tgt.columns.find((t) => t.name === c.name)!.type;
    // A type of the tenant's own (an enum, a domain a migration made) is another type in each
    // schema: the value goes through its text form.
    values.set(c.name, targetType === c.type ? `${a}.${ident(c.name)}` : `CAST(CAST(${a}.${ident(c.name)} AS text) AS ${targetType})`);
  }
  return {
    from: `FROM ${readSource(plan, table)} ${a} ${joins.join(' ')}`.trimEnd(),
    value: (name) => {
      const v = values.get(name);
      if (v === undefined) throw new Error(`no value for ${table}.${name}`);
      return v;
    },
    mapped: (name) => mappedCols.has(name),
  };
}
