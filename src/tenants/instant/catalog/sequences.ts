import type { Queryable } from '../../../db/types.js';
import { literal, qualified } from '../../../util/quote.js';

/**
 * Sequences: the standalone ones (serial's too) made before the tables whose
 * defaults call them, identity sequences made by their columns (see
 * tables.ts), then after the rows every sequence's position, and after the
 * tables each standalone sequence's OWNED BY.
 */
const STANDALONE = `
SELECT format('CREATE %sSEQUENCE %s AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s',
  CASE c.relpersistence WHEN 'u' THEN 'UNLOGGED ' ELSE '' END, c.oid::regclass, format_type(s.seqtypid, NULL), s.seqincrement,
  s.seqmin, s.seqmax, s.seqstart, s.seqcache, CASE WHEN s.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END) AS sql
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
WHERE c.relnamespace = $1 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
ORDER BY c.oid`;

const OWNED_BY = `
SELECT format('ALTER SEQUENCE %s OWNED BY %s.%I', c.oid::regclass, d.refobjid::regclass, a.attname) AS sql
FROM pg_class c JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a' AND d.refclassid = 'pg_class'::regclass
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE c.relnamespace = $1 AND c.relkind = 'S' ORDER BY c.oid`;

const NAMES = `SELECT c.relname AS name FROM pg_class c WHERE c.relnamespace = $1 AND c.relkind = 'S' ORDER BY c.oid`;

export async function standaloneSequencesSql(db: Queryable, schemaOid: number): Promise<string[]> {
  return (await db.query<{ sql: string }>(STANDALONE, [schemaOid])).rows.map((r) => r.sql);
}

export async function ownedBySql(db: Queryable, schemaOid: number): Promise<string[]> {
  return (await db.query<{ sql: string }>(OWNED_BY, [schemaOid])).rows.map((r) => r.sql);
}

/** Every sequence's position (last value, is_called), read in one statement, as setval calls. */
export async function positionsSql(db: Queryable, schema: string, schemaOid: number): Promise<string[]> {
  const names = (await db.query<{ name: string }>(NAMES, [schemaOid])).rows.map((r) => r.name);
  if (names.length === 0) return [];
  const reads = names.map(
    (n) => `SELECT ${literal(qualified(schema, n))} AS seq, last_value::text AS last, is_called FROM ${qualified(schema, n)}`,
  );
  const r = await db.query<{ seq: string; last: string; is_called: boolean }>(reads.join(' UNION ALL '));
  // last is the server's bigint text, checked as one by BigInt.
  return r.rows.map((row) => `SELECT pg_catalog.setval(${literal(row.seq)}::regclass, ${BigInt(row.last)}, ${row.is_called})`);
}
