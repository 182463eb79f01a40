import type { Queryable } from '../db/types.js';
import { literal, qualified } from '../util/quote.js';
import type { ManifestSequence } from './archive-format.js';

/** What an export reads of a tenant schema besides the copy catalog: its partitioned tables and its sequences' values. */

export async function partitionedTables(db: Queryable, schema: string): Promise<Set<string>> {
  const r = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'p'`,
    [schema],
  );
  return new Set(r.rows.map((row) => row.name));
}

/** Every sequence of the schema with its last value and whether it was called: two queries whatever their number. */
export async function sequenceValues(db: Queryable, schema: string): Promise<ManifestSequence[]> {
  const names = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'S' ORDER BY c.relname`,
    [schema],
  );
  if (names.rows.length === 0) return [];
  const r = await db.query<{ name: string; last: string; called: boolean }>(
    names.rows
      .map(
        (s) => `SELECT ${literal(s.name)}::text AS name, last_value::text AS last, is_called AS called FROM ${qualified(schema, s.name)}`,
      )
      .join(' UNION ALL '),
  );
  return r.rows.map((row) => ({ name: row.name, lastValue: row.last, isCalled: row.called }));
}

/** Statements that set a schema's sequences to exported values (values inlined as literals, for one message). */
export function setSequencesSql(schema: string, sequences: readonly ManifestSequence[]): string {
  if (sequences.length === 0) return '';
  return `SELECT ${sequences
    .map(
      (s) =>
        `pg_catalog.setval(${literal(qualified(schema, s.name))}::regclass, ${literal(s.lastValue)}::bigint, ${s.isCalled ? 'true' : 'false'})`,
    )
    .join(', ')}`;
}
