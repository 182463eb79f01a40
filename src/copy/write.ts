import type { Queryable } from '../db/types.js';
import { ident, qualified } from '../util/quote.js';
import { primaryKey } from './catalog.js';
import type { TableGroup } from './graph.js';
import { readSource, selTable, type TransferPlan } from './plan.js';
import { bindKey, sourceRows } from './source-rows.js';
import { columnsMatch, isStaged } from './sql-fragments.js';
import type { OnConflict } from './types.js';

/**
 * One INSERT ... SELECT per table: the server reads the source rows and writes
 * them rewritten (ownership column, remapped keys) into the target. Stored
 * generated columns are left to the target to compute; identity values are
 * copied (OVERRIDING SYSTEM VALUE) or come from the maps.
 */
export function insertSql(plan: TransferPlan, table: string, onConflict: OnConflict): string {
  const src = plan.source.tables.get(table)!;
  const tgt = plan.target.tables.get(table)!;
  const columns = src.columns.filter((c) => !c.generated).map((c) => c.name);
  const rows = sourceRows(plan, table, { selection: plan.staged ? 'written' : 'none' });
  const overriding = tgt.columns.some((c) => c.identity !== '' && columns.includes(c.name)) ? ' OVERRIDING SYSTEM VALUE' : '';
  return `INSERT INTO ${qualified(plan.target.schema, table)} (${columns.map(ident).join(', ')})${overriding}
    SELECT ${columns.map((c) => rows.value(c)).join(', ')} ${rows.from}${conflictClause(plan, table, columns, onConflict)}`;
}

function conflictClause(plan: TransferPlan, table: string, columns: string[], onConflict: OnConflict): string {
  if (onConflict === 'error') return '';
  if (onConflict === 'skip') return '\n    ON CONFLICT DO NOTHING';
  const tgt = plan.target.tables.get(table)!;
  const pk = primaryKey(tgt);
  if (!pk) return '';
  const always = new Set(tgt.columns.filter((c) => c.identity === 'a').map((c) => c.name));
  const set = columns.filter((c) => !pk.columns.includes(c) && !always.has(c));
  const target = `(${pk.columns.map(ident).join(', ')})`;
  if (set.length === 0) {
    // Every column is in the key (a join table): a no-op update still counts the row as written.
    const key = pk.columns.find((c) => !always.has(c));
    return key
      ? `\n    ON CONFLICT ${target} DO UPDATE SET ${ident(key)} = EXCLUDED.${ident(key)}`
      : `\n    ON CONFLICT ${target} DO NOTHING`;
  }
  return `\n    ON CONFLICT ${target} DO UPDATE SET ${set.map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`).join(', ')}`;
}

export function deleteSql(plan: TransferPlan, table: string): string {
  const t = qualified(plan.source.schema, table);
  if (!plan.staged) return `DELETE FROM ${t}`;
  if (!plan.mirrored) return `DELETE FROM ${t} s USING ${selTable(plan, table)} k WHERE ${isStaged('k', 's')} AND k.del`;
  // Citus: the rows to delete are named by the local copy. By primary key (Citus plans the local
  // subquery first, then the DELETE on the tenant's worker); a table without one by its rows'
  // positions, bound as $1 (Citus refuses ctid in a DELETE that joins a local table).
  const pk = primaryKey(plan.source.tables.get(table)!);
  if (!pk) return `DELETE FROM ${t} WHERE ctid = ANY($1::tid[])`;
  return `DELETE FROM ${t} s USING (SELECT ${pk.columns.map((c) => `m.${ident(c)}`).join(', ')} FROM ${readSource(plan, table)} m
      JOIN ${selTable(plan, table)} k ON ${isStaged('k', 'm')} AND k.del) d
    WHERE ${columnsMatch('s', pk.columns, 'd', pk.columns)}`;
}

/** Citus, a table without a primary key: the positions (on its worker) of the rows a move deletes from it. */
async function positionsToDelete(db: Queryable, plan: TransferPlan, table: string): Promise<unknown[] | undefined> {
  if (!plan.mirrored || !plan.staged || primaryKey(plan.source.tables.get(table)!)) return undefined;
  const r = await db.query<{ tids: unknown }>(
    `SELECT coalesce(array_agg(m.tc_ctid), '{}') AS tids FROM ${readSource(plan, table)} m JOIN ${selTable(plan, table)} k ON ${isStaged('k', 'm')} AND k.del`,
  );
  return [r.rows[0]!.tids];
}

/**
 * Runs one statement per table, or one per group of tables that reference
 * each other: a WITH of data-modifying statements, whose foreign-key checks
 * run at the end of the statement, when every row of the cycle is in place.
 */
async function perGroup(
  db: Queryable,
  groups: readonly TableGroup[],
  build: (table: string) => string,
  targetKey: string,
  returning: string,
  /** A one-table group's own parameters, when its statement takes them instead of the target key. */
  values: (table: string) => Promise<unknown[] | undefined> = () => Promise.resolve(undefined),
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const group of groups) {
    if (group.tables.length === 1) {
      const table = group.tables[0]!;
      const own = await values(table);
      const q = own ? { sql: build(table), values: own } : bindKey(build(table), targetKey);
      counts.set(table, (await db.query(q.sql, q.values)).rowCount ?? 0);
      continue;
    }
    const parts = group.tables.map((t, i) => `w${i} AS (${build(t)} RETURNING ${returning})`);
    const select = group.tables.map((_, i) => `(SELECT count(*) FROM w${i})::bigint AS n${i}`).join(', ');
    const q = bindKey(`WITH ${parts.join(',\n')}\nSELECT ${select}`, targetKey);
    const row = (await db.query<Record<string, string>>(q.sql, q.values)).rows[0]!;
    group.tables.forEach((t, i) => counts.set(t, Number(row[`n${i}`])));
  }
  return counts;
}

/** Inserts parents first; returns rows written per table. */
export function writeRows(db: Queryable, plan: TransferPlan, onConflict: OnConflict, targetKey: string): Promise<Map<string, number>> {
  return perGroup(db, plan.groups, (t) => insertSql(plan, t, onConflict), targetKey, '1');
}

/** Deletes children first; returns rows deleted per table. */
export function deleteRows(db: Queryable, plan: TransferPlan, targetKey: string): Promise<Map<string, number>> {
  const groups = [...plan.groups].reverse().filter((g) => g.tables.some((t) => plan.carried.has(t)));
  return perGroup(
    db,
    groups.map((g) => ({ ...g, tables: g.tables.filter((t) => plan.carried.has(t)) })),
    (t) => deleteSql(plan, t),
    targetKey,
    '1',
    (t) => positionsToDelete(db, plan, t),
  );
}
