import type { Queryable } from '../../../db/types.js';

/**
 * What the catalog capture cannot reproduce, as reasons (creation then replays):
 * extensions and object kinds it does not write, and settings it does not carry.
 * Each query reads one catalog for the whole schema ($1, its oid).
 */
const CHECKS = `
SELECT format('extension %I is installed in the schema', extname) AS reason FROM pg_extension WHERE extnamespace = $1
UNION ALL SELECT format('%s belongs to an extension', pg_describe_object(d.classid, d.objid, 0)) FROM pg_depend d
  JOIN pg_class c ON d.classid = 'pg_class'::regclass AND d.objid = c.oid WHERE d.deptype = 'e' AND c.relnamespace = $1
UNION ALL SELECT format('%s is a %s', oid::regclass, CASE relkind WHEN 'f' THEN 'foreign table' ELSE 'relation of kind ' || relkind::text END)
  FROM pg_class WHERE relnamespace = $1 AND relkind NOT IN ('r', 'p', 'v', 'm', 'S', 'i', 'I', 'c')
UNION ALL SELECT format('table %s inherits from another table', c.oid::regclass) FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relnamespace = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
UNION ALL SELECT format('partition %s is outside the schema', c.oid::regclass) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  JOIN pg_class p ON p.oid = i.inhparent WHERE c.relkind IN ('r', 'p') AND (c.relnamespace = $1) <> (p.relnamespace = $1)
UNION ALL SELECT format('table %s is a typed table', oid::regclass) FROM pg_class WHERE relnamespace = $1 AND reloftype <> 0
UNION ALL SELECT format('%s uses the access method %I', c.oid::regclass, a.amname) FROM pg_class c JOIN pg_am a ON a.oid = c.relam
  WHERE c.relnamespace = $1 AND c.relkind IN ('r', 'm') AND a.amname <> 'heap'
UNION ALL SELECT format('%s has replica identity or a clustered index set', oid::regclass) FROM pg_class
  WHERE relnamespace = $1 AND relkind IN ('r', 'p') AND relreplident <> 'd'
UNION ALL SELECT format('%s has a clustered index', i.indrelid::regclass) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
  WHERE c.relnamespace = $1 AND i.indisclustered
UNION ALL SELECT format('column %I of %s has its own storage, statistics or options', a.attname, c.oid::regclass) FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
  WHERE c.relnamespace = $1 AND c.relkind IN ('r', 'p', 'm') AND a.attnum > 0 AND NOT a.attisdropped
    AND (a.attstorage <> t.typstorage OR coalesce(a.attstattarget, -1) <> -1 OR a.attcompression::text <> ''
      OR EXISTS (SELECT 1 FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg\\_attver=%'))
UNION ALL SELECT format('column %I of partition %s has its own default or NOT NULL', a.attname, c.oid::regclass) FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid JOIN pg_inherits h ON h.inhrelid = c.oid JOIN pg_attribute pa ON pa.attrelid = h.inhparent AND pa.attname = a.attname
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum LEFT JOIN pg_attrdef pd ON pd.adrelid = pa.attrelid AND pd.adnum = pa.attnum
  WHERE c.relnamespace = $1 AND c.relispartition AND a.attnum > 0 AND NOT a.attisdropped
    AND (a.attnotnull <> pa.attnotnull OR pg_get_expr(d.adbin, d.adrelid) IS DISTINCT FROM pg_get_expr(pd.adbin, pd.adrelid))
UNION ALL SELECT format('view %s has a column default', c.oid::regclass) FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid
  WHERE c.relnamespace = $1 AND c.relkind = 'v'
UNION ALL SELECT format('type %s is a %s', oid::regtype, CASE typtype WHEN 'b' THEN 'base type' WHEN 'p' THEN 'shell type' ELSE 'type of kind ' || typtype::text END)
  FROM pg_type t WHERE typnamespace = $1 AND typtype NOT IN ('c', 'd', 'e', 'r', 'm')
    AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
UNION ALL SELECT format('range type %s has a canonical or difference function', rngtypid::regtype) FROM pg_range r
  JOIN pg_type t ON t.oid = r.rngtypid WHERE t.typnamespace = $1 AND (r.rngcanonical <> 0 OR r.rngsubdiff <> 0)
UNION ALL SELECT format('%s is an aggregate or window function', oid::regprocedure) FROM pg_proc WHERE pronamespace = $1 AND prokind IN ('a', 'w')
UNION ALL SELECT format('the statistics object %I has a statistics target', stxname) FROM pg_statistic_ext
  WHERE stxnamespace = $1 AND coalesce(stxstattarget, -1) <> -1
UNION ALL SELECT format('the rule %I is not always enabled', rulename) FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
  WHERE c.relnamespace = $1 AND r.ev_enabled <> 'O'
UNION ALL SELECT 'the schema holds operators' FROM pg_operator WHERE oprnamespace = $1 HAVING count(*) > 0
UNION ALL SELECT 'the schema holds operator classes or families' FROM pg_opfamily WHERE opfnamespace = $1 HAVING count(*) > 0
UNION ALL SELECT 'the schema holds collations' FROM pg_collation WHERE collnamespace = $1 HAVING count(*) > 0
UNION ALL SELECT 'the schema holds conversions' FROM pg_conversion WHERE connamespace = $1 HAVING count(*) > 0
UNION ALL SELECT 'the schema holds text search objects' FROM (SELECT cfgnamespace AS ns FROM pg_ts_config UNION ALL SELECT dictnamespace FROM pg_ts_dict
  UNION ALL SELECT prsnamespace FROM pg_ts_parser UNION ALL SELECT tmplnamespace FROM pg_ts_template) x WHERE ns = $1 HAVING count(*) > 0
UNION ALL SELECT format('a cast from %s to %s involves the schema', castsource::regtype, casttarget::regtype) FROM pg_cast c
  WHERE (EXISTS (SELECT 1 FROM pg_type t WHERE t.oid IN (c.castsource, c.casttarget) AND t.typnamespace = $1)
    OR EXISTS (SELECT 1 FROM pg_proc p WHERE p.oid = c.castfunc AND p.pronamespace = $1))
    -- Not the casts a range type makes for itself (to its multirange type), which its CREATE TYPE makes again.
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_cast'::regclass AND d.objid = c.oid AND d.deptype = 'i')
UNION ALL SELECT format('the event trigger %I calls a function of the schema', e.evtname) FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid
  WHERE p.pronamespace = $1
UNION ALL SELECT 'objects of the schema have security labels' FROM pg_seclabel l JOIN pg_class c ON l.classoid = 'pg_class'::regclass AND l.objoid = c.oid
  WHERE c.relnamespace = $1 HAVING count(*) > 0
UNION ALL SELECT 'tables of the schema are in a publication' FROM pg_publication_rel r JOIN pg_class c ON c.oid = r.prrelid
  WHERE c.relnamespace = $1 HAVING count(*) > 0
UNION ALL SELECT 'the schema is in a publication' FROM pg_publication_namespace WHERE pnnspid = $1 HAVING count(*) > 0`;

/** Reasons the capture would make a different schema; empty when it reproduces this one. */
export async function unsupported(db: Queryable, schemaOid: number): Promise<string[]> {
  const r = await db.query<{ reason: string }>(CHECKS, [schemaOid]);
  return r.rows.map((row) => row.reason);
}
