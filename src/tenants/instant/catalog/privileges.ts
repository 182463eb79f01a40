import type { Queryable } from '../../../db/types.js';

/**
 * Owners, privileges and default privileges. An object owned by someone
 * other than the capturing user gets ALTER ... OWNER TO. Each ACL (schema,
 * relations, columns, functions, types) is compared with what a new object
 * has (acldefault for its owner; nothing for a column): what it adds is
 * granted, what it took away is revoked. Default privileges in the schema
 * come last, so that they do not add to the objects the script makes.
 */
const OBJECTS = `
  SELECT 'SCHEMA ' || quote_ident(nspname) AS target, NULL::text AS col, nspowner AS owner, nspacl AS acl, acldefault('n', nspowner) AS dflt, 0 AS o, oid, false AS owned
    FROM pg_namespace WHERE oid = $1
  UNION ALL SELECT CASE relkind WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || oid::regclass::text,
    NULL, relowner, relacl, acldefault(CASE relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", relowner), 1, oid,
    relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
    FROM pg_class c WHERE relnamespace = $1 AND relkind IN ('r', 'p', 'v', 'm', 'S')
  UNION ALL SELECT 'TABLE ' || c.oid::regclass::text, quote_ident(a.attname), c.relowner, a.attacl, acldefault('c', c.relowner), 2, c.oid, false
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace = $1 AND a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL SELECT CASE prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END || oid::regprocedure::text, NULL, proowner, proacl, acldefault('f', proowner), 3, oid, false
    FROM pg_proc WHERE pronamespace = $1 AND prokind IN ('f', 'p')
  UNION ALL SELECT CASE typtype WHEN 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || oid::regtype::text, NULL, typowner, typacl, acldefault('T', typowner), 4, oid, false
    FROM pg_type t WHERE typnamespace = $1 AND (typtype IN ('e', 'd', 'r') OR (typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))`;

const grantee = (col: string) =>
  `CASE WHEN ${col} = 0 THEN 'PUBLIC' ELSE quote_ident((SELECT rolname FROM pg_roles WHERE oid = ${col})) END`;
const privs = `string_agg(p.privilege_type || coalesce(' (' || p.col || ')', ''), ', ' ORDER BY p.privilege_type)`;

const OWNERS = `
WITH objects AS (${OBJECTS})
SELECT format('ALTER %s OWNER TO %I', target, (SELECT rolname FROM pg_roles WHERE oid = owner)) AS sql
FROM objects WHERE col IS NULL AND NOT owned AND owner <> (SELECT oid FROM pg_roles WHERE rolname = current_user) ORDER BY o, oid`;

const ACLS = `
WITH objects AS (${OBJECTS}),
  have AS (SELECT o.o, o.oid, o.target, o.col, e.grantee, e.privilege_type, e.is_grantable FROM objects o, aclexplode(coalesce(o.acl, o.dflt)) e),
  dflt AS (SELECT o.o, o.oid, o.target, o.col, e.grantee, e.privilege_type, e.is_grantable FROM objects o, aclexplode(o.dflt) e),
  revokes AS (SELECT o, oid, target, col, grantee, privilege_type FROM dflt EXCEPT SELECT o, oid, target, col, grantee, privilege_type FROM have),
  grants AS (SELECT * FROM have EXCEPT SELECT * FROM dflt)
SELECT sql FROM (
  SELECT p.o, p.oid, 0 AS step, format('REVOKE %s ON %s FROM %s', ${privs}, p.target, ${grantee('p.grantee')}) AS sql
    FROM revokes p GROUP BY p.o, p.oid, p.target, p.col, p.grantee
  UNION ALL SELECT p.o, p.oid, 1, format('GRANT %s ON %s TO %s%s', ${privs}, p.target, ${grantee('p.grantee')},
      CASE WHEN p.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
    FROM grants p GROUP BY p.o, p.oid, p.target, p.col, p.grantee, p.is_grantable
) x ORDER BY o, oid, step, sql`;

const DEFAULTS = `
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT %s ON %s TO %s%s', (SELECT rolname FROM pg_roles WHERE oid = d.defaclrole),
  (SELECT nspname FROM pg_namespace WHERE oid = $1), string_agg(e.privilege_type, ', ' ORDER BY e.privilege_type),
  CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END,
  ${grantee('e.grantee')}, CASE WHEN e.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) AS sql
FROM pg_default_acl d, aclexplode(d.defaclacl) e WHERE d.defaclnamespace = $1
GROUP BY d.oid, d.defaclrole, d.defaclobjtype, e.grantee, e.is_grantable ORDER BY d.oid, 1`;

async function statements(db: Queryable, sql: string, schemaOid: number): Promise<string[]> {
  return (await db.query<{ sql: string }>(sql, [schemaOid])).rows.map((r) => r.sql);
}

export const ownersSql = (db: Queryable, schemaOid: number) => statements(db, OWNERS, schemaOid);
export const aclsSql = (db: Queryable, schemaOid: number) => statements(db, ACLS, schemaOid);
export const defaultPrivilegesSql = (db: Queryable, schemaOid: number) => statements(db, DEFAULTS, schemaOid);
