import type { Queryable } from '../../db/types.js';
import { literal, qualified } from '../../util/quote.js';

/**
 * The tables whose rows a relocation moves: every table of the tenant's schema
 * that holds rows (plain tables and partitions; a partitioned parent holds
 * none of its own), with the columns a COPY carries (stored generated columns
 * are recomputed by the target) and whether logical replication can follow
 * its UPDATEs and DELETEs (a replica identity: a primary key, an index, or FULL).
 */
export interface RowTable {
  name: string;
  columns: string[];
  replicaIdentity: boolean;
  /**
   * Every column's type hashes the same on any server (integers, text with a deterministic
   * collation, dates and times, numeric, uuid, jsonb, bytea, floats, booleans): the checksum can
   * hash the row's values (hash_record_extended) instead of its text, at a third of the cost.
   */
  hashable: boolean;
  /**
   * Every column's type is a built-in base type (or an array of one): COPY can carry the rows in
   * binary, which any server version reads back and which skips parsing text on the target. A
   * type of the tenant's own (an enum, a composite) goes as text: its binary form names its oid.
   */
  binary: boolean;
}

/** Types whose hash functions hash the value itself (stable across servers and versions, as hash partitioning needs). */
const HASHABLE = [
  'int2',
  'int4',
  'int8',
  'text',
  'varchar',
  'bpchar',
  'bool',
  'date',
  'timestamp',
  'timestamptz',
  'time',
  'numeric',
  'uuid',
  'jsonb',
  'bytea',
  'float4',
  'float8',
  'interval',
  'oid',
];

export async function rowTables(db: Queryable, schema: string): Promise<RowTable[]> {
  const r = await db.query<RowTable>(
    `SELECT c.relname AS name,
       ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum) AS columns,
       (c.relreplident IN ('f', 'i') OR (c.relreplident = 'd' AND EXISTS (
          SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))) AS "replicaIdentity",
       NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_catalog.pg_type b ON b.oid = t.typbasetype
         LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           AND (coalesce(b.typname, t.typname) <> ALL ($2::text[]) OR coalesce(b.typnamespace, t.typnamespace) <> 'pg_catalog'::regnamespace
                OR co.collisdeterministic IS FALSE)) AS hashable,
       NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_catalog.pg_type b ON b.oid = t.typbasetype
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
           AND (coalesce(b.typnamespace, t.typnamespace) <> 'pg_catalog'::regnamespace OR coalesce(b.typtype, t.typtype) <> 'b'
                OR coalesce(b.typsend, t.typsend) = 0 OR coalesce(b.typreceive, t.typreceive) = 0)) AS binary
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname`,
    [schema, HASHABLE],
  );
  return r.rows;
}

/** Every table of the schema a LOCK names (partitioned parents lock their partitions). */
export async function lockableTables(db: Queryable, schema: string): Promise<string[]> {
  const r = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
    [schema],
  );
  return r.rows.map((t) => t.name);
}

/** Writes wait, reads go on: EXCLUSIVE conflicts with ROW EXCLUSIVE (INSERT, UPDATE, DELETE) and not with ACCESS SHARE (SELECT). */
export function freezeSql(schema: string, tables: readonly string[]): string {
  if (tables.length === 0) return '';
  return `LOCK TABLE ${tables.map((t) => qualified(schema, t)).join(', ')} IN EXCLUSIVE MODE`;
}

/**
 * Settings that make a row's text the same on both servers (and COPY text
 * read back as written), whatever each server's defaults: for the checksum
 * and for the copy's two sessions.
 */
export const STABLE_TEXT =
  "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 1; SET LOCAL bytea_output = 'hex'";

/**
 * Row count and checksum of every table in one statement (one scan per table): the sum of a hash
 * of every row, of its values where every column's type allows (see RowTable.hashable), else of
 * its text. Both sides use the same table list, so they hash the same way.
 */
export function checksumSql(schema: string, tables: readonly RowTable[]): string {
  return tables
    .map((t) => {
      const hash = t.hashable ? 'pg_catalog.hash_record_extended(x, 0)' : 'pg_catalog.hashtextextended(x::text, 0)';
      return `SELECT ${literal(t.name)}::text AS table, count(*)::bigint::text AS rows, coalesce(sum(${hash}), 0)::text AS checksum FROM ${qualified(schema, t.name)} x`;
    })
    .join(' UNION ALL ');
}

export interface TableSum {
  table: string;
  rows: number;
  checksum: string;
}

export async function tableSums(db: Queryable, schema: string, tables: readonly RowTable[]): Promise<TableSum[]> {
  if (tables.length === 0) return [];
  const r = await db.query<{ table: string; rows: string; checksum: string }>(checksumSql(schema, tables));
  return r.rows
    .map((row) => ({ table: row.table, rows: Number(row.rows), checksum: row.checksum }))
    .sort((a, b) => (a.table < b.table ? -1 : 1));
}

/** The tables whose count or checksum differ between the two sides. */
export function mismatches(source: readonly TableSum[], target: readonly TableSum[]): string[] {
  const there = new Map(target.map((t) => [t.table, t]));
  const out: string[] = [];
  for (const s of source) {
    const t = there.get(s.table);
    if (!t) out.push(`${s.table} is missing on the target`);
    else if (t.rows !== s.rows) out.push(`${s.table} has ${s.rows} rows on the source, ${t.rows} on the target`);
    else if (t.checksum !== s.checksum) out.push(`${s.table} has the same ${s.rows} rows counted but different contents`);
  }
  return out;
}
