import type { Queryable } from '../db/types.js';

/** A sequence that feeds an integer column: an identity, or a default that is exactly nextval('seq'). */
export interface ColumnSequence {
  oid: number;
  schema: string;
  name: string;
  increment: number;
}

export interface CatalogColumn {
  name: string;
  /** format_type with search_path = pg_catalog: every non-catalog type is schema-qualified. */
  type: string;
  /** A stored generated column: recomputed by the target, never copied. */
  generated: boolean;
  /** 'a' GENERATED ALWAYS, 'd' BY DEFAULT, '' not an identity. */
  identity: '' | 'a' | 'd';
  sequence: ColumnSequence | null;
}

/** A primary key, unique constraint or plain unique index (no expression, no predicate). */
export interface CatalogKey {
  name: string;
  columns: string[];
  primary: boolean;
}

export interface CatalogForeignKey {
  name: string;
  table: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
}

export interface CatalogTable {
  name: string;
  columns: CatalogColumn[];
  keys: CatalogKey[];
  /** Foreign keys from this table to tables of the same schema. */
  foreignKeys: CatalogForeignKey[];
}

export interface SchemaCatalog {
  schema: string;
  tables: Map<string, CatalogTable>;
  /** Foreign keys from tables of other schemas into this one. */
  incoming: { schema: string; table: string; constraint: string; refTable: string }[];
}

/**
 * Tables (plain and partitioned; not partitions, views or foreign tables),
 * columns, unique keys and foreign keys of one schema: four queries. Run with
 * search_path = pg_catalog so that type names come back qualified.
 */
export async function readCatalog(db: Queryable, schema: string): Promise<SchemaCatalog> {
  const rels = await db.query<{ oid: number; name: string }>(
    `SELECT c.oid::int AS oid, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname`,
    [schema],
  );
  const oids = rels.rows.map((r) => r.oid);
  const byOid = new Map<number, CatalogTable>(rels.rows.map((r) => [r.oid, { name: r.name, columns: [], keys: [], foreignKeys: [] }]));
  const tables = new Map([...byOid.values()].map((t) => [t.name, t]));
  const incoming: SchemaCatalog['incoming'] = [];
  if (oids.length === 0) return { schema, tables, incoming };

  const cols = await db.query<{
    rel: number;
    name: string;
    type: string;
    generated: boolean;
    identity: '' | 'a' | 'd';
    sequence: ColumnSequence | null;
  }>(
    `SELECT a.attrelid::int AS rel, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       a.attgenerated <> '' AS generated, a.attidentity::text AS identity,
       (SELECT json_build_object('oid', s.oid::int, 'schema', sn.nspname, 'name', s.relname, 'increment', q.seqincrement)
        FROM pg_class s JOIN pg_namespace sn ON sn.oid = s.relnamespace JOIN pg_sequence q ON q.seqrelid = s.oid
        WHERE a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
          AND s.oid = coalesce(
            (SELECT d.objid FROM pg_depend d
             WHERE a.attidentity <> '' AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
               AND d.refobjid = a.attrelid AND d.refobjsubid = a.attnum AND d.deptype = 'i' LIMIT 1),
            (SELECT d.refobjid FROM pg_attrdef ad
             JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid AND d.refclassid = 'pg_class'::regclass
             JOIN pg_class ds ON ds.oid = d.refobjid AND ds.relkind = 'S'
             WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum
               AND pg_get_expr(ad.adbin, ad.adrelid) ~ '^nextval\\(''[^'']+''::regclass\\)$' LIMIT 1))) AS sequence
     FROM pg_attribute a
     WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attrelid, a.attnum`,
    [oids],
  );
  for (const c of cols.rows) {
    byOid.get(c.rel)!.columns.push({ name: c.name, type: c.type, generated: c.generated, identity: c.identity, sequence: c.sequence });
  }

  const keys = await db.query<{ rel: number; name: string; primary: boolean; columns: string[] }>(
    `SELECT i.indrelid::int AS rel, ic.relname AS name, i.indisprimary AS primary,
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS columns
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
     WHERE i.indrelid = ANY($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
     ORDER BY i.indrelid, i.indisprimary DESC, ic.relname`,
    [oids],
  );
  for (const k of keys.rows) byOid.get(k.rel)!.keys.push({ name: k.name, primary: k.primary, columns: k.columns });

  const fks = await db.query<{
    name: string;
    rel: number;
    ref: number;
    schema: string;
    table: string;
    refTable: string;
    columns: string[];
    refColumns: string[];
  }>(
    `SELECT con.conname AS name, con.conrelid::int AS rel, con.confrelid::int AS ref, cn.nspname AS schema, cc.relname AS table,
       pc.relname AS "refTable",
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS "refColumns"
     FROM pg_constraint con
     JOIN pg_class cc ON cc.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
     JOIN pg_class pc ON pc.oid = con.confrelid
     WHERE con.contype = 'f' AND con.conparentid = 0 AND (con.conrelid = ANY($1) OR con.confrelid = ANY($1))
     ORDER BY cc.relname, con.conname`,
    [oids],
  );
  for (const f of fks.rows) {
    const child = byOid.get(f.rel);
    const parent = byOid.get(f.ref);
    if (child && parent)
      child.foreignKeys.push({ name: f.name, table: child.name, columns: f.columns, refTable: parent.name, refColumns: f.refColumns });
    else if (parent) incoming.push({ schema: f.schema, table: f.table, constraint: f.name, refTable: parent.name });
  }
  return { schema, tables, incoming };
}

export function primaryKey(table: CatalogTable): CatalogKey | undefined {
  return table.keys.find((k) => k.primary);
}
