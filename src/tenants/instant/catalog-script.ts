import type { Queryable } from '../../db/types.js';
import { ident } from '../../util/quote.js';
import { commentsSql } from './catalog/comments.js';
import { constraintsSql, indexesSql, rulesSql, securitySql, statisticsSql, triggersSql } from './catalog/constraints.js';
import { functionsSql } from './catalog/functions.js';
import { aclsSql, defaultPrivilegesSql, ownersSql } from './catalog/privileges.js';
import { rowsSql } from './catalog/rows.js';
import { ownedBySql, positionsSql, standaloneSequencesSql } from './catalog/sequences.js';
import { tablesSql } from './catalog/tables.js';
import { domainChecksSql, typesSql } from './catalog/types.js';
import { unsupported } from './catalog/unsupported.js';
import { viewsSql } from './catalog/views.js';

/**
 * One schema's structure, privileges and rows as one SQL script, read from
 * the catalog with the server's own deparsers, for the caller's transaction
 * (which it sets to search_path = pg_catalog, so every name of the schema
 * comes back qualified). The script runs with check_function_bodies off, in
 * this order: schema; types; functions that need no table; domain checks;
 * standalone sequences; tables; the other functions; rows; sequence
 * positions; views; OWNED BY; foreign keys; indexes; statistics; triggers;
 * rules; row level security and policies; comments; owners; privileges;
 * default privileges. A schema it cannot reproduce gives reasons instead.
 */
export type CatalogScript = { script: string; rows: string[]; reasons?: undefined } | { reasons: string[] };

export async function catalogScript(db: Queryable, schema: string): Promise<CatalogScript> {
  await db.query('SET LOCAL search_path = pg_catalog; SET LOCAL row_security = off');
  const oid = Number((await db.query<{ oid: string }>('SELECT oid FROM pg_namespace WHERE nspname = $1', [schema])).rows[0]!.oid);
  const reasons = await unsupported(db, oid);
  if (reasons.length > 0) return { reasons };
  const functions = await functionsSql(db, oid);
  const rows = await rowsSql(db, oid);
  const steps: ((db: Queryable, oid: number) => Promise<string[]> | string[])[] = [
    () => [`CREATE SCHEMA ${ident(schema)}`],
    typesSql,
    () => functions.early,
    domainChecksSql,
    standaloneSequencesSql,
    tablesSql,
    () => functions.late,
    () => rows.statements,
    (d, o) => positionsSql(d, schema, o),
    viewsSql,
    ownedBySql,
    constraintsSql,
    indexesSql,
    statisticsSql,
    triggersSql,
    rulesSql,
    securitySql,
    commentsSql,
    ownersSql,
    aclsSql,
    defaultPrivilegesSql,
  ];
  const statements: string[] = [];
  for (const step of steps) statements.push(...(await step(db, oid)));
  const header = [`SET LOCAL search_path = ''`, 'SET LOCAL check_function_bodies = false', 'SET LOCAL client_min_messages = warning'];
  return { script: [...header, ...statements].map((s) => `${s};`).join('\n'), rows: rows.texts };
}
