import type { Queryable } from '../db/types.js';
import { ident } from '../util/quote.js';
import type { CatalogKey } from './catalog.js';
import { readTarget, type TransferPlan } from './plan.js';
import { bindKey, sourceRows, type Selection } from './source-rows.js';
import type { KeyConflict } from './types.js';

/**
 * The source rows that, written as they would be (target key, new keys),
 * collide with a row already in the target on one of its unique keys.
 * Without maps (a dry run draws no sequence values) keys that hold remapped
 * values are left out: new values collide with nothing.
 */
export function collisionSql(
  plan: TransferPlan,
  table: string,
  key: CatalogKey,
  options: { selection: Selection; maps: boolean },
): string | undefined {
  const rows = sourceRows(plan, table, { selection: options.selection, maps: options.maps });
  const src = plan.source.tables.get(table)!;
  const generated = new Set(src.columns.filter((c) => c.generated).map((c) => c.name));
  if (key.columns.some((c) => generated.has(c))) return undefined;
  if (!options.maps && key.columns.some((c) => rows.mapped(c))) return undefined;
  const same = key.columns.map((c) => `b.${ident(c)} = ${rows.value(c)}`).join(' AND ');
  return `SELECT s.tableoid AS rel, s.ctid AS rid, json_build_array(${key.columns.map((c) => rows.value(c)).join(', ')}) AS key
    ${rows.from}
    WHERE EXISTS (SELECT 1 FROM ${readTarget(plan, table)} b WHERE ${same})`;
}

function targetKeys(plan: TransferPlan, table: string): CatalogKey[] {
  return plan.target.tables.get(table)!.keys;
}

/** Every unique key the copy collides on, with up to ten example key values each. */
export async function findConflicts(
  db: Queryable,
  plan: TransferPlan,
  targetKey: string,
  options: { selection: Selection; maps: boolean },
): Promise<KeyConflict[]> {
  const found: KeyConflict[] = [];
  for (const table of plan.scope) {
    for (const key of targetKeys(plan, table)) {
      const sql = collisionSql(plan, table, key, options);
      if (!sql) continue;
      const q = bindKey(`SELECT (count(*) OVER ())::int AS total, x.key FROM (${sql}) x LIMIT 10`, targetKey);
      const r = await db.query<{ total: number; key: unknown[] }>(q.sql, q.values);
      if (r.rows.length > 0)
        found.push({ table, constraint: key.name, columns: key.columns, count: r.rows[0]!.total, keys: r.rows.map((row) => row.key) });
    }
  }
  return found;
}

/** Dry run: per table, how many rows collide on any unique key of the target. */
export async function countConflicts(
  db: Queryable,
  plan: TransferPlan,
  table: string,
  targetKey: string,
  selection: Selection,
): Promise<number> {
  const scans = targetKeys(plan, table)
    .map((key) => collisionSql(plan, table, key, { selection, maps: false }))
    .filter((s): s is string => s !== undefined);
  if (scans.length === 0) return 0;
  const union = scans.map((s, i) => `SELECT rel, rid FROM (${s}) c${i}`).join('\nUNION\n');
  const q = bindKey(`SELECT count(*)::int AS n FROM (${union}) x`, targetKey);
  const r = await db.query<{ n: number }>(q.sql, q.values);
  return r.rows[0]!.n;
}
