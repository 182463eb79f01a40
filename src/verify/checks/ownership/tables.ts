// The tables of the selected tenants, with their ownership column, type and index: one catalog query.
import { fleetSql, inTenantSchema, tenantSchema, type Fleet } from '../../fleet-sql.js';
import type { VerifyScope } from '../../types.js';

/** One table of one tenant, as the ownership check sees it. */
export interface OwnedTable {
  tenant: string;
  schema: string;
  table: string;
  /** The ownership column (config `ownershipColumn`). */
  column: string;
  /** 'r' plain (probed with ONLY, its inheritance children are probed on their own) or 'p' partitioned. */
  kind: 'r' | 'p';
  hasColumn: boolean;
  /** The column's type, schema and name, for the cast of the key. */
  typeSchema: string | null;
  typeName: string | null;
  typeLabel: string | null;
  /** A valid, non-partial btree index leads with the column, with the type's default ordering. */
  indexed: boolean;
  /** The table lacks the column while the same table of another tenant has it. */
  othersHave: boolean;
  /** pg_class.relpages: the size at the last VACUUM or ANALYZE (a hint for the probe's form, never for the verdict). */
  pages: number;
  /** pg_class.reltuples: -1 when never vacuumed or analyzed (the size is then unknown). */
  tuples: number;
}

/**
 * `column`: the placeholder of the ownership column's name. Each table's column is looked up by
 * the (attrelid, attname) index, in a LATERAL subquery kept apart (OFFSET 0): one index probe per
 * table, whatever the statistics estimate for attname (template1's know no tenant_id); the type's
 * schema name from the regnamespace cast (a cache lookup, unquoted by parse_ident), not a scan; an
 * index leads with the column in its type's default btree order when its first operator class is
 * one of the default btree classes (read once: an operator class belongs to one access method).
 */
export const ownedTablesSql = (f: Fleet, column: string): string => `WITH ${f.cte},
     btree_default AS MATERIALIZED (
       SELECT ARRAY(SELECT oc.oid FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod WHERE am.amname = 'btree' AND oc.opcdefault) AS oids
     ),
     tbl AS MATERIALIZED (
       SELECT ${tenantSchema('c.relnamespace')} ->> 'tenant' AS tenant, ${tenantSchema('c.relnamespace')} ->> 'nspname' AS schema,
              c.oid, c.relname, c.relkind, c.relnamespace, c.relpages, c.reltuples
       FROM pg_class c
       WHERE ${inTenantSchema('c.relnamespace', 'selected')} AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     )
     SELECT t.tenant, t.schema, t.relname AS "table", ${column} AS "column", t.relkind::text AS kind,
            a.attnum IS NOT NULL AS "hasColumn",
            a.type_schema AS "typeSchema", a.type_name AS "typeName", a.type_label AS "typeLabel",
            coalesce(EXISTS (
              SELECT 1 FROM pg_index i
              WHERE i.indrelid = t.oid AND i.indkey[0] = a.attnum AND i.indclass[0] = ANY((SELECT oids FROM btree_default)::oid[])
                AND i.indpred IS NULL AND i.indisvalid AND i.indcollation[0] = a.attcollation
            ), false) AS indexed,
            a.attnum IS NULL AND EXISTS (
              SELECT 1 FROM pg_class c2
              JOIN pg_attribute a2 ON a2.attrelid = c2.oid AND a2.attname = ${column} AND a2.attnum > 0 AND NOT a2.attisdropped
              WHERE c2.relname = t.relname AND c2.relkind IN ('r', 'p') AND c2.relnamespace <> t.relnamespace
                AND ${inTenantSchema('c2.relnamespace', 'all')}
            ) AS "othersHave",
            t.relpages AS pages, t.reltuples::float8 AS tuples
     FROM tbl t
     LEFT JOIN LATERAL (
       SELECT a.attnum, a.attcollation, (parse_ident(ty.typnamespace::regnamespace::text))[1] AS type_schema,
              ty.typname AS type_name, format_type(a.atttypid, a.atttypmod) AS type_label
         FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
        WHERE a.attrelid = t.oid AND a.attname = ${column} AND a.attnum > 0 AND NOT a.attisdropped
       OFFSET 0
     ) a ON true
     ORDER BY t.tenant, t.relname`;

/**
 * Every table of the selected tenants, with what the probes need: one catalog
 * query for the whole fleet.
 */
export async function ownedTables(scope: VerifyScope): Promise<OwnedTable[]> {
  const f = fleetSql(scope);
  const sql = ownedTablesSql(f, f.params.add(scope.ctx.config.ownershipColumn, 'name'));
  const r = await scope.db.query<OwnedTable>(sql, f.params.values);
  return r.rows;
}
