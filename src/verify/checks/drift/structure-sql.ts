import { createHash } from 'node:crypto';
import type { Entry } from './snapshot.js';

/**
 * An index as its catalog rows say it, for the digest: what pg_get_indexdef prints (uniqueness,
 * NULLS NOT DISTINCT, kind, access method, key and INCLUDE columns by name with their collation,
 * operator classes, their options, ordering, storage parameters), read without deparsing: the
 * deparser opens the index's table to name its columns, which builds that table's cache entry in
 * the server process (most of the digest's time on a fleet), while these columns need no table
 * open. An index with expressions or a predicate adds them, deparsed (pg_get_expr: the table is opened,
 * but no operator class or access method is looked up as pg_get_indexdef does). The digest only
 * picks the schemas whose entries are compared (deparsed, as always): this form must tell apart
 * any two indexes whose definitions differ, and two equal indexes always give the same form (it
 * holds no oid of a tenant's own objects, only of built-in classes, collations and methods, and
 * names, not numbers, of columns).
 */
function indexShape(norm: (expr: string, nsp: string) => string, serverVersion: number): string {
  const keyNames = `(SELECT string_agg(coalesce((SELECT a.attname || ' ' || a.attcollation::text FROM pg_attribute a
                                               WHERE a.attrelid = i.indrelid AND a.attnum = k.n), '(expression)'), ', ' ORDER BY k.o)
                      FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(n, o))`;
  const options = `(SELECT string_agg(a.attnum || '=' || a.attoptions::text, ' ' ORDER BY a.attnum) FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attoptions IS NOT NULL)`;
  // NULLS NOT DISTINCT came with PostgreSQL 15 (indnullsnotdistinct); read as to_jsonb(i) ->> it, the whole row was
  // turned into JSON for every unique index, 6% of the digest
  const nullsNotDistinct = serverVersion >= 150000 ? 'i.indnullsnotdistinct::text' : "''";
  return `concat_ws(' ', c.relkind::text, c.relam::text, CASE WHEN i.indisunique THEN 'unique ' || ${nullsNotDistinct} END,
           i.indnkeyatts::text, ${keyNames}, i.indclass::text, i.indcollation::text, i.indoption::text, c.reloptions::text, ${options},
           CASE WHEN i.indexprs IS NOT NULL THEN 'expressions ' || ${norm('pg_get_expr(i.indexprs, i.indrelid)', 'c.relnamespace')} END,
           CASE WHEN i.indpred IS NOT NULL THEN 'where ' || ${norm('pg_get_expr(i.indpred, i.indrelid)', 'c.relnamespace')} END)`;
}

/**
 * A schema's structure as rows (nsp, kind, name, def), from the catalog.
 * `def` is what must match: the catalog's own deparse (pg_get_indexdef,
 * pg_get_constraintdef, pg_get_viewdef, pg_get_functiondef,
 * pg_get_triggerdef, column types and defaults; a trigger's or rule's enabled
 * state, a table's row level security and its policies: behaviour, not only
 * shape), with the schema's own name replaced by "@" so that two schemas built
 * by the same migrations compare equal. Run it with search_path = pg_catalog
 * so that every deparse qualifies names the same way.
 *
 * `oids` is the placeholder of the schemas to describe, an oid[] (bound, or an
 * array literal): pg_class is read once (`rel`, its rows kept by
 * `= ANY(oids)`), and every catalog that hangs off a relation (columns and
 * their defaults, indexes, triggers, policies, rules) is reached from rel's
 * rows by its index on the relation's oid, in LATERAL subqueries kept apart
 * (OFFSET 0): one probe per relation whatever the statistics say (none for
 * triggers or rules where pg_class says the relation never had any, none
 * for a column's default where pg_attribute says it has none), and a
 * statement over part of a large fleet reads only that part (the largest
 * catalogs, pg_attribute above all, are never scanned whole). The catalogs
 * with no such index (pg_constraint, pg_proc, pg_type) are scanned once, their
 * rows kept by `= ANY(oids)`, a relation's or type's name looked up by oid. No
 * join with a set of schemas, so no plan can rescan one for every catalog row.
 * A row's schema name comes from the regnamespace cast (a cache lookup, quoted
 * as quote_ident quotes it).
 */
export function entriesCte(oids: string, form: 'deparsed' | 'digest' | 'both', serverVersion: number): string {
  const norm = (expr: string, nsp: string) => `replace(${expr}, ${nsp}::regnamespace::text || '.', '@.')`;
  const indexDef = form === 'digest' ? indexShape(norm, serverVersion) : norm('pg_get_indexdef(c.oid)', 'c.relnamespace');
  // An index of the schemas, with its pg_index row (i) and its table's name (t), by oid from rel.
  const indexes = `FROM rel c
    CROSS JOIN LATERAL (SELECT i.* FROM pg_index i WHERE i.indexrelid = c.oid OFFSET 0) i
    CROSS JOIN LATERAL (SELECT t.relname FROM pg_class t WHERE t.oid = i.indrelid OFFSET 0) t
   WHERE c.relkind IN ('i', 'I')`;
  const shapes =
    form === 'both'
      ? `
  UNION ALL
  SELECT c.relnamespace, '${INDEX_SHAPE}', t.relname || '.' || c.relname, ${indexShape(norm, serverVersion)}
    ${indexes}`
      : '';
  return `rel AS MATERIALIZED (
  SELECT c.oid, c.relnamespace, c.relname, c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity, c.relam, c.reloptions,
         c.relhastriggers, c.relhasrules
    FROM pg_class c WHERE c.relnamespace = ANY(${oids})
),
e AS (
  SELECT c.relnamespace AS nsp, 'table' AS kind, c.relname::text AS name,
         c.relkind::text || ' ' || c.relpersistence::text || coalesce(' ' || ${norm('pg_get_partkeydef(c.oid)', 'c.relnamespace')}, '')
         || CASE WHEN c.relrowsecurity THEN ' row level security' ELSE '' END
         || CASE WHEN c.relforcerowsecurity THEN ' forced' ELSE '' END AS def
    FROM rel c WHERE c.relkind IN ('r', 'p', 'f')
  UNION ALL
  SELECT c.relnamespace, 'column', c.relname || '.' || a.attname,
         ${norm('format_type(a.atttypid, a.atttypmod)', 'c.relnamespace')}
         || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
         || CASE a.attidentity WHEN 'a' THEN ' generated always as identity' WHEN 'd' THEN ' generated by default as identity' ELSE '' END
         || CASE WHEN a.attgenerated = 's' THEN ' generated' ELSE '' END
         || coalesce(' default ' || ${norm("pg_get_expr(a.adbin, CASE WHEN a.attgenerated = '' THEN 0 ELSE a.attrelid END)", 'c.relnamespace')}, '')
    FROM rel c
    CROSS JOIN LATERAL (
      SELECT a.attrelid, a.attname, a.atttypid, a.atttypmod, a.attnotnull, a.attidentity, a.attgenerated,
             CASE WHEN a.atthasdef THEN (SELECT ad.adbin FROM pg_attrdef ad WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum) END AS adbin
        FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      OFFSET 0
    ) a
   WHERE c.relkind IN ('r', 'p', 'f')
  UNION ALL
  SELECT c.relnamespace, 'index', t.relname || '.' || c.relname, ${indexDef}
    ${indexes}
  UNION ALL
  SELECT co.connamespace, 'constraint',
         coalesce((SELECT t.relname FROM pg_class t WHERE t.oid = co.conrelid), (SELECT ty.typname FROM pg_type ty WHERE ty.oid = co.contypid)) || '.' || co.conname,
         co.contype::text || ' ' || ${norm('pg_get_constraintdef(co.oid)', 'co.connamespace')}
    FROM pg_constraint co
   WHERE co.connamespace = ANY(${oids})
  UNION ALL
  SELECT c.relnamespace, 'view', c.relname, c.relkind::text || ' ' || ${norm('pg_get_viewdef(c.oid)', 'c.relnamespace')}
    FROM rel c WHERE c.relkind IN ('v', 'm')
  UNION ALL
  SELECT c.relnamespace, 'sequence', c.relname, ''
    FROM rel c WHERE c.relkind = 'S'
  UNION ALL
  SELECT p.pronamespace, 'function', p.proname || '(' || ${norm('pg_get_function_identity_arguments(p.oid)', 'p.pronamespace')} || ')',
         CASE WHEN p.prokind IN ('f', 'p') THEN ${norm('pg_get_functiondef(p.oid)', 'p.pronamespace')} ELSE p.prokind::text END
    FROM pg_proc p WHERE p.pronamespace = ANY(${oids})
  UNION ALL
  SELECT c.relnamespace, 'trigger', c.relname || '.' || tg.tgname,
         ${norm('pg_get_triggerdef(tg.oid)', 'c.relnamespace')}
         || CASE tg.tgenabled WHEN 'D' THEN ' (disabled)' WHEN 'R' THEN ' (enabled on replicas only)' WHEN 'A' THEN ' (enabled always)' ELSE '' END
    FROM rel c
    CROSS JOIN LATERAL (SELECT tg.oid, tg.tgname, tg.tgenabled FROM pg_trigger tg WHERE tg.tgrelid = c.oid AND NOT tg.tgisinternal OFFSET 0) tg
   WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND c.relhastriggers
  UNION ALL
  SELECT c.relnamespace, 'policy', c.relname || '.' || po.polname,
         CASE WHEN po.polpermissive THEN 'permissive ' ELSE 'restrictive ' END || po.polcmd::text
         || coalesce(' using ' || ${norm('pg_get_expr(po.polqual, po.polrelid)', 'c.relnamespace')}, '')
         || coalesce(' check ' || ${norm('pg_get_expr(po.polwithcheck, po.polrelid)', 'c.relnamespace')}, '')
    FROM rel c
    CROSS JOIN LATERAL (SELECT po.* FROM pg_policy po WHERE po.polrelid = c.oid OFFSET 0) po
   WHERE c.relkind IN ('r', 'p')
  UNION ALL
  SELECT c.relnamespace, 'rule', c.relname || '.' || rw.rulename, ${norm('pg_get_ruledef(rw.oid)', 'c.relnamespace')}
         || CASE rw.ev_enabled WHEN 'D' THEN ' (disabled)' WHEN 'R' THEN ' (enabled on replicas only)' WHEN 'A' THEN ' (enabled always)' ELSE '' END
    FROM rel c
    CROSS JOIN LATERAL (SELECT rw.oid, rw.rulename, rw.ev_enabled FROM pg_rewrite rw WHERE rw.ev_class = c.oid AND rw.rulename <> '_RETURN' OFFSET 0) rw
   WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND c.relhasrules
  UNION ALL
  SELECT t.typnamespace, 'type', t.typname::text,
         t.typtype::text || ' ' || coalesce((SELECT string_agg(quote_literal(en.enumlabel), ', ' ORDER BY en.enumsortorder) FROM pg_enum en WHERE en.enumtypid = t.oid), '')
    FROM pg_type t WHERE t.typnamespace = ANY(${oids}) AND t.typtype IN ('e', 'd')${shapes}
)`;
}

/**
 * The schemas named in `names` (a text[] placeholder) that exist: their oids, for the queries below;
 * how many of their relations a deparse may open (tables, views, materialized views, foreign
 * tables: counted in one pass over pg_class, read through a map, so no plan rescans it per schema);
 * and the server's lock table in slots and its version (server_version_num), the same on every row.
 */
export const schemaOidsSql = (names: string): string => `WITH counts AS MATERIALIZED (
  SELECT coalesce(jsonb_object_agg(g.nsp::text, g.n), '{}') AS m
    FROM (SELECT c.relnamespace AS nsp, count(*) AS n FROM pg_class c WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') GROUP BY 1) g
)
SELECT n.oid::text AS oid, n.nspname AS schema, coalesce(((SELECT m FROM counts) ->> n.oid::text)::int, 0) AS relations,
       current_setting('max_locks_per_transaction')::int
         * (current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int) AS lock_slots,
       current_setting('server_version_num')::int AS server_version
  FROM pg_namespace n WHERE n.nspname = ANY(${names})`;

/**
 * One digest per schema of `oids` that holds anything (a schema without a row holds nothing the check
 * compares), on a server of `serverVersion` (server_version_num: the digest's form reads what it has).
 */
export function digestsSql(oids: string, serverVersion: number): string {
  return `WITH ${entriesCte(oids, 'digest', serverVersion)}
SELECT nsp::text AS oid, md5(string_agg(kind || ' ' || name || ' ' || def, E'\\n' ORDER BY kind COLLATE "C", name COLLATE "C")) AS digest, count(*)::int AS n
  FROM e GROUP BY nsp`;
}

/**
 * Every entry of the schemas of `oids`; with `shapes` (the server's version, as for digestsSql), each
 * index once more as kind INDEX_SHAPE, in the digest's form (see digestOf).
 */
export function entriesSql(oids: string, shapes?: { serverVersion: number }): string {
  return `WITH ${entriesCte(oids, shapes ? 'both' : 'deparsed', shapes?.serverVersion ?? 0)}
SELECT nsp::text AS oid, kind, name, def FROM e ORDER BY nsp, kind COLLATE "C", name COLLATE "C"`;
}

/** The kind of an index's row in the digest's form, among the entries of entriesSql(oids, { serverVersion }). */
export const INDEX_SHAPE = 'index shape';

/**
 * The digest digestsSql computes, from the rows of entriesSql(oids, { serverVersion }) of one schema (their
 * index rows in the digest's form): the same lines in the same order (bytes, as COLLATE "C"), the
 * same md5; null for a schema without a row. A server whose encoding is not UTF-8 gives other
 * bytes for a name that is not ASCII: its tenants' digests then differ from the reference, and
 * their entries are compared (slower, the same result).
 */
export function digestOf(rows: readonly Entry[]): string | null {
  const lines = rows
    .filter((r) => r.kind !== 'index')
    .map((r) => ({ kind: Buffer.from(r.kind === INDEX_SHAPE ? 'index' : r.kind), name: Buffer.from(r.name), def: r.def }))
    .sort((a, b) => Buffer.compare(a.kind, b.kind) || Buffer.compare(a.name, b.name))
    .map((r) => `${r.kind.toString()} ${r.name.toString()} ${r.def}`);
  return lines.length === 0 ? null : createHash('md5').update(lines.join('\n'), 'utf8').digest('hex');
}
