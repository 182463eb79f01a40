import type { Queryable } from '../../../db/types.js';
import { ident, literal, qualified } from '../../../util/quote.js';

/**
 * The rows the migrations left in the schema's tables, read in one statement
 * as JSON, written back as one INSERT per table: every stored column (not the
 * generated ones, which the server computes again), OVERRIDING SYSTEM VALUE
 * for identity columns.
 */
const TABLES = `
SELECT n.nspname AS schema, c.relname AS name,
  (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS cols,
  EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attidentity <> '' AND NOT a.attisdropped) AS identity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relnamespace = $1 AND c.relkind = 'r' ORDER BY c.oid`;

export interface CapturedRows {
  statements: string[];
  /** The rows' JSON, one per table with rows: what safety.ts looks into for names held as text. */
  texts: string[];
}

export async function rowsSql(db: Queryable, schemaOid: number): Promise<CapturedRows> {
  const tables = (await db.query<{ schema: string; name: string; cols: string[] | null; identity: boolean }>(TABLES, [schemaOid])).rows;
  if (tables.length === 0) return { statements: [], texts: [] };
  const reads = tables.map((t, i) => `SELECT ${i} AS i, (SELECT json_agg(x)::text FROM ${qualified(t.schema, t.name)} x) AS rows`);
  const data = (await db.query<{ i: number; rows: string | null }>(reads.join(' UNION ALL '))).rows;
  const statements: string[] = [];
  const texts: string[] = [];
  for (const { i, rows } of data) {
    const t = tables[i]!;
    if (rows === null || !t.cols) continue;
    const table = qualified(t.schema, t.name);
    const cols = t.cols.map((c) => ident(c)).join(', ');
    statements.push(
      `INSERT INTO ${table} (${cols})${t.identity ? ' OVERRIDING SYSTEM VALUE' : ''} SELECT ${cols} FROM pg_catalog.json_populate_recordset(NULL::${table}, ${literal(rows)})`,
    );
    texts.push(rows);
  }
  return { statements, texts };
}
