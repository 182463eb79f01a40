// Runs the ownership probes in batches, side by side, and counts the offenders of bad tables.
import { isConnectionLoss } from '../../../sqlstate.js';
import type { Queryable } from '../../../db/types.js';
import type { StatementSlots } from '../../slots.js';
import { isSmall, offendersSql, probeMode, probeSql, type ProbeMode } from './probe-sql.js';
import type { OwnedTable } from './tables.js';

export interface ProbeJob {
  table: OwnedTable;
  key: string;
  mode: ProbeMode;
}

export interface ProbeOutcome extends ProbeJob {
  bad: boolean;
  /** The probe itself failed: the key does not fit the column's type, most often. */
  error?: { code: string; message: string };
}

/** Index probes and scans of small tables are cheap: many share a statement. Big scans get one each, so they run side by side. */
const PROBES_PER_STATEMENT = 50;
const UNDEFINED_FUNCTION = '42883';

/** A probe for every table with the column. */
export function probeJobs(tables: readonly OwnedTable[], keys: ReadonlyMap<string, string>): ProbeJob[] {
  return tables.filter((t) => t.hasColumn).map((t) => ({ table: t, key: keys.get(t.tenant)!, mode: probeMode(t) }));
}

/**
 * Runs every probe, each statement in one of the server's statement slots (shared with the other
 * checks, see StatementSlots). A statement that fails is retried probe by probe, so one tenant's bad
 * key does not hide the rest; a type without `=` is retried comparing text.
 */
export async function runProbes(db: Queryable, jobs: readonly ProbeJob[], slots: StatementSlots): Promise<ProbeOutcome[]> {
  const chunks: ProbeJob[][] = [];
  let batch: ProbeJob[] = [];
  for (const job of jobs) {
    if (job.mode !== 'index' && !isSmall(job.table)) {
      chunks.push([job]);
      continue;
    }
    batch.push(job);
    if (batch.length === PROBES_PER_STATEMENT) {
      chunks.push(batch);
      batch = [];
    }
  }
  if (batch.length > 0) chunks.push(batch);
  const done = await Promise.all(chunks.map((chunk) => slots.run('ownership', () => runChunk(db, chunk))));
  return done.flat();
}

async function runChunk(db: Queryable, chunk: readonly ProbeJob[]): Promise<ProbeOutcome[]> {
  const sql = chunk.map((job, i) => probeSql(job.table, job.mode, i, i + 1)).join('\nUNION ALL\n');
  try {
    const r = await db.query<{ i: number }>(
      sql,
      chunk.map((j) => j.key),
    );
    const bad = new Set(r.rows.map((row) => row.i));
    return chunk.map((job, i) => ({ ...job, bad: bad.has(i) }));
  } catch (err) {
    if (isConnectionLoss(err) || !(err as { code?: string }).code) throw err;
    if (chunk.length > 1) {
      // one probe at a time, in the slot this statement held
      const each: ProbeOutcome[] = [];
      for (const job of chunk) each.push(...(await runChunk(db, [job])));
      return each;
    }
    const job = chunk[0]!;
    const code = (err as { code: string }).code;
    if (code === UNDEFINED_FUNCTION && job.mode !== 'text') return runChunk(db, [{ ...job, mode: 'text' }]);
    return [{ ...job, bad: false, error: { code, message: (err as Error).message } }];
  }
}

export interface Offenders {
  total: number;
  /** The most common wrong values (text form; null for NULL) and their counts. */
  top: { value: string | null; rows: number }[];
}

/** For a table a probe found bad: how many rows and which values. One query. */
export async function countOffenders(db: Queryable, job: ProbeJob): Promise<Offenders> {
  const r = await db.query<{ v: string | null; n: string; total: string }>(offendersSql(job.table, job.mode), [job.key]);
  return { total: Number(r.rows[0]?.total ?? 0), top: r.rows.map((row) => ({ value: row.v, rows: Number(row.n) })) };
}
