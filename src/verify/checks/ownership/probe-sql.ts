// The SQL of one ownership probe, and of the count of a bad table's rows.
import { ident, qualified } from '../../../util/quote.js';
import type { OwnedTable } from './tables.js';

/**
 * How a table is probed:
 * - index: the two ends of the column's btree order, read from the index
 *   (ORDER BY col LIMIT 1, both directions). Every value equals the key if and
 *   only if the smallest and the largest do, and with NULLS FIRST a NULL shows
 *   up at the top end. Two index probes however many rows; the planner picks
 *   the index for ORDER BY ... LIMIT 1 without needing statistics.
 * - scan: the table's first row whose column is not the key (LIMIT 1: one
 *   scan, which stops at the first bad row); also
 *   for an indexed table under 1 MB (by its statistics), which a scan reads
 *   faster than the planner plans the two index probes.
 * - text: like scan, comparing text forms, for a type without an = operator.
 */
export type ProbeMode = 'index' | 'scan' | 'text';

/** Below this many pages (1 MB) a scan costs less than planning two index probes. */
const SMALL_TABLE_PAGES = 128;

/**
 * Small, as far as the statistics know: a plain table last seen under 1 MB.
 * Never analyzed (reltuples -1) counts as big. Only the probe's form depends
 * on it, never the verdict: a stale size costs time, not correctness.
 */
export function isSmall(t: OwnedTable): boolean {
  return t.kind === 'r' && t.tuples >= 0 && t.pages < SMALL_TABLE_PAGES;
}

export function probeMode(t: OwnedTable): ProbeMode {
  return t.indexed && !isSmall(t) ? 'index' : 'scan';
}

/** FROM target: ONLY for plain tables (inheritance children are probed on their own). */
function from(t: OwnedTable): string {
  return `${t.kind === 'r' ? 'ONLY ' : ''}${qualified(t.schema, t.table)}`;
}

/** The key, cast to the column's own type: the type decides what "equal" means. */
function keyAs(t: OwnedTable, param: number): string {
  return `$${param}::${qualified(t.typeSchema!, t.typeName!)}`;
}

/**
 * One probe: a row (i) when some row's column is not the key (NULL included), none when every row's
 * is. Probes are joined with UNION ALL, 50 to a statement: a scan is a subquery of its own (LIMIT 1:
 * it stops at the first bad row), which the planner plans as one branch of the statement's append,
 * not as a subplan of a row (an EXISTS in the select list, planned apart: a tenth more server time
 * over 4,000 small tables).
 */
export function probeSql(t: OwnedTable, mode: ProbeMode, i: number, param: number): string {
  const c = ident(t.column);
  if (mode === 'index') {
    const k = keyAs(t, param);
    const end = (order: string) => `coalesce((SELECT ${c} IS DISTINCT FROM ${k} FROM ${from(t)} ORDER BY ${c} ${order} LIMIT 1), false)`;
    return `SELECT ${i} AS i WHERE ${end('DESC NULLS FIRST')} OR ${end('ASC NULLS LAST')}`;
  }
  const cond = mode === 'text' ? `${c}::text IS DISTINCT FROM $${param}::text` : `${c} IS DISTINCT FROM ${keyAs(t, param)}`;
  return `(SELECT ${i} AS i FROM ${from(t)} WHERE ${cond} LIMIT 1)`;
}

/**
 * For a table a probe found bad: how many rows, and the most common wrong
 * values. Indexed columns are read through the index (range and IS NULL).
 */
export function offendersSql(t: OwnedTable, mode: ProbeMode): string {
  const c = ident(t.column);
  let cond: string;
  if (mode === 'index') cond = `(${c} < ${keyAs(t, 1)} OR ${c} > ${keyAs(t, 1)} OR ${c} IS NULL)`;
  else if (mode === 'text') cond = `${c}::text IS DISTINCT FROM $1::text`;
  else cond = `${c} IS DISTINCT FROM ${keyAs(t, 1)}`;
  return `SELECT v, n::bigint AS n, (sum(n) OVER ())::bigint AS total
    FROM (SELECT ${c}::text AS v, count(*) AS n FROM ${from(t)} WHERE ${cond} GROUP BY 1) g
    ORDER BY n DESC, v NULLS FIRST LIMIT 3`;
}
