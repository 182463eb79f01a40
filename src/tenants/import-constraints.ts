import type { Queryable } from '../db/types.js';
import { ident, qualified } from '../util/quote.js';

/**
 * Loading rows into tables that already have their foreign keys and secondary
 * indexes costs a lookup per row and an index insert per row; pg_restore loads
 * first and builds after. Import does the same inside its transaction: the
 * schema's foreign keys, plain (non-constraint) indexes and (keys: true) its
 * primary key and unique constraints are dropped before the rows and made again
 * from their own definitions after them, keys first and foreign keys last, so a
 * row that breaks a key or a foreign key still fails the import. Read with
 * search_path = pg_catalog, so every name in a definition is qualified; a
 * definition is the server's own text (pg_get_constraintdef, pg_get_indexdef).
 */
export interface Deferred {
  foreignKeys: { table: string; name: string; def: string }[];
  /** Primary key, unique and exclusion constraints (with their indexes), when asked for: built after the rows, before the foreign keys that need them. */
  keys: { table: string; name: string; def: string }[];
  indexes: { name: string; def: string }[];
}

/**
 * keys: also the primary key, unique and exclusion constraints of plain tables
 * (one sorted index build each instead of an index insert per row), except one
 * a foreign key from outside the schema references or one with a comment (both
 * would not survive the drop).
 */
export async function deferrable(db: Queryable, schema: string, options: { keys?: boolean } = {}): Promise<Deferred> {
  const fks = await db.query<{ table: string; name: string; def: string }>(
    `SELECT c.relname AS table, con.conname AS name, pg_get_constraintdef(con.oid) AS def
     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND con.contype = 'f' AND con.conparentid = 0 ORDER BY c.relname, con.conname`,
    [schema],
  );
  const idx = await db.query<{ name: string; def: string }>(
    `SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS def
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r' AND NOT c.relispartition AND NOT i.indisclustered AND NOT i.indisreplident
       AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)
       AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid OR h.inhparent = i.indexrelid)
     ORDER BY ic.relname`,
    [schema],
  );
  const keys = options.keys
    ? await db.query<{ table: string; name: string; def: string }>(
        `SELECT c.relname AS table, con.conname AS name, pg_get_constraintdef(con.oid) AS def
     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND con.contype IN ('p', 'u', 'x') AND c.relkind = 'r' AND NOT c.relispartition AND con.conparentid = 0
       AND NOT EXISTS (SELECT 1 FROM pg_constraint f JOIN pg_class fc ON fc.oid = f.conrelid
                       WHERE f.contype = 'f' AND f.conindid = con.conindid AND fc.relnamespace <> n.oid)
       AND NOT EXISTS (SELECT 1 FROM pg_description d WHERE d.objoid IN (con.oid, con.conindid))
     ORDER BY c.relname, con.conname`,
        [schema],
      )
    : { rows: [] };
  return { foreignKeys: fks.rows, keys: keys.rows, indexes: idx.rows };
}

export function dropSql(schema: string, d: Deferred): string {
  return [
    ...d.foreignKeys.map((f) => `ALTER TABLE ${qualified(schema, f.table)} DROP CONSTRAINT ${ident(f.name)}`),
    ...d.keys.map((k) => `ALTER TABLE ${qualified(schema, k.table)} DROP CONSTRAINT ${ident(k.name)}`),
    ...d.indexes.map((i) => `DROP INDEX ${qualified(schema, i.name)}`),
  ].join(';\n');
}

export function restoreSql(schema: string, d: Deferred): string {
  return [
    ...d.keys.map((k) => `ALTER TABLE ${qualified(schema, k.table)} ADD CONSTRAINT ${ident(k.name)} ${k.def}`),
    ...d.indexes.map((i) => i.def),
    ...d.foreignKeys.map((f) => `ALTER TABLE ${qualified(schema, f.table)} ADD CONSTRAINT ${ident(f.name)} ${f.def}`),
  ].join(';\n');
}
