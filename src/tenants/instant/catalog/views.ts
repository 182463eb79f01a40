import type { Queryable } from '../../../db/types.js';
import { dependencyOrder } from './order.js';

/**
 * Views and materialized views (made WITH DATA when the template's was
 * populated, from the rows already copied), each after the views it reads:
 * the order comes from pg_depend on each view's rewrite rule.
 */
const VIEWS = `
SELECT c.oid, CASE c.relkind WHEN 'v' THEN format('CREATE VIEW %s%s AS %s', c.oid::regclass,
    CASE WHEN c.reloptions IS NOT NULL THEN ' WITH (' || array_to_string(c.reloptions, ', ') || ')' ELSE '' END, rtrim(pg_get_viewdef(c.oid), ';'))
  ELSE format('CREATE MATERIALIZED VIEW %s%s AS %s WITH %sDATA', c.oid::regclass,
    CASE WHEN c.reloptions IS NOT NULL THEN ' WITH (' || array_to_string(c.reloptions, ', ') || ')' ELSE '' END, rtrim(pg_get_viewdef(c.oid), ';'),
    CASE WHEN c.relispopulated THEN '' ELSE 'NO ' END) END AS sql,
  (SELECT coalesce(array_agg(DISTINCT d.refobjid), '{}') FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
   WHERE r.ev_class = c.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid) AS reads
FROM pg_class c WHERE c.relnamespace = $1 AND c.relkind IN ('v', 'm') ORDER BY c.oid`;

export async function viewsSql(db: Queryable, schemaOid: number): Promise<string[]> {
  const rows = (await db.query<{ oid: number; sql: string; reads: number[] }>(VIEWS, [schemaOid])).rows;
  return dependencyOrder(rows, (r) => r.reads);
}
