// The privileges check's query for privileges reached indirectly: role chains, role attributes, the control schema, ownership outside.
import { inTenantSchema, isTenantRole, tenantRole, type Fleet, rolesOf } from '../../fleet-sql.js';

/** Predefined roles that read, write or run anything: membership is a leak of every tenant's data. */
export const DATA_ROLES = [
  'pg_read_all_data',
  'pg_write_all_data',
  'pg_execute_server_program',
  'pg_read_server_files',
  'pg_write_server_files',
];

const RELKIND = `CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
  WHEN 'f' THEN 'foreign table' WHEN 'c' THEN 'type' ELSE 'table' END`;
const FUNC = `p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'`;

/**
 * SQL: is `role` (an oid expression) one that a tenant role reaches (reach_map) and that is neither a
 * tenant's role nor the shared role: the roles through which an indirect grant can pass. Applied to
 * each ACL entry before the grants are grouped, so only those few are aggregated.
 */
export const reachedOther = (role: string) =>
  `(SELECT by_role FROM reach_map) ? (${role})::text AND NOT ${isTenantRole(role)} AND ${role} NOT IN (SELECT oid FROM shared_role)`;

/**
 * The reach part: what tenant roles reach through other roles. Its CTEs follow the shared ones of
 * privilegesSql (the fleet, am, shared_role, obj, acl_entry); `dataRoles`: the placeholder of DATA_ROLES (text[]).
 * - predefined-role: a tenant role is a member, directly or through any chain
 *   of roles, of a predefined role (error for those that read, write or run
 *   everything; warn for the rest: monitoring shows other sessions' queries);
 * - role-reach: a tenant role that has, or is a member of a role that has,
 *   SUPERUSER, BYPASSRLS or CREATEROLE (on PostgreSQL 15 CREATEROLE can grant
 *   itself any non-superuser role, another tenant's too);
 * - indirect-grant: another tenant's role reaches, through a role that is no
 *   tenant's, a grant on (or the ownership of) a selected tenant's object, a
 *   column grant included;
 * - control-grant: a grant on the control schema or its objects to PUBLIC, the
 *   shared role, a tenant role or a role a tenant role reaches;
 * - owned-outside: an object outside its own schema (in the shared schema or
 *   any other that is no tenant's) owned by a tenant role, or a schema other
 *   than its own.
 * `reach` (member, tenant, roleid, ...) holds every role a tenant role is a member of, through
 * any chain: the direct part's member rows read it too.
 */
export const reachCtes = (f: Fleet): string => `
up(member, tenant, roleid, via) AS (
  SELECT tr.oid, tr.tenant, m.roleid, ARRAY[]::oid[] FROM tr, ${rolesOf('tr.oid')}
  UNION
  SELECT up.member, up.tenant, m.roleid, up.via || up.roleid FROM up, ${rolesOf('up.roleid')}
   WHERE NOT m.roleid = ANY(up.via) AND cardinality(up.via) < 16
),
reach AS MATERIALIZED (
  SELECT up.member, up.tenant, up.roleid, ro.rolname, ro.rolsuper, ro.rolbypassrls, ro.rolcreaterole,
         (SELECT string_agg(pg_get_userbyid(v), ' -> ') FROM unnest(up.via) AS v) AS via
    FROM up JOIN pg_roles ro ON ro.oid = up.roleid
),
reach_map AS MATERIALIZED (
  SELECT jsonb_object_agg(roleid::text, reached) AS by_role
    FROM (SELECT r.roleid, jsonb_agg(jsonb_build_object('tenant', r.tenant, 'member', r.member::text, 'rolname', r.rolname, 'via', r.via)) AS reached
            FROM reach r GROUP BY r.roleid) g
),
holder AS (
  SELECT e.tenant, e.label, e.grantee AS role, string_agg(DISTINCT e.privilege_type, ', ') AS privs
    FROM acl_entry e
   WHERE NOT e.dflt AND e.grantee <> 0 AND ${reachedOther('e.grantee')}
   GROUP BY 1, 2, 3
  UNION
  SELECT obj.tenant, obj.label, obj.owner, 'ownership' FROM obj WHERE ${reachedOther('obj.owner')}
),
control AS MATERIALIZED (
  SELECT 'schema ' || n.nspname AS label, n.nspacl AS acl FROM pg_namespace n WHERE n.nspname = ${f.controlSchema}
  UNION ALL
  SELECT ${RELKIND} || ' ' || n.nspname || '.' || c.relname, c.relacl
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${f.controlSchema} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL
  SELECT 'function ' || n.nspname || '.' || ${FUNC}, p.proacl
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ${f.controlSchema}
),
control_grant AS (
  SELECT control.label, x.grantee, string_agg(DISTINCT x.privilege_type, ', ') AS privs
    FROM control, aclexplode(control.acl) AS x WHERE control.acl IS NOT NULL
   GROUP BY 1, 2
),
owned AS (
  SELECT c.relowner AS owner, c.relnamespace AS nsp, ${RELKIND} || ' ' || n.nspname || '.' || c.relname AS label
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND ${isTenantRole('c.relowner')}
  UNION ALL
  SELECT p.proowner, p.pronamespace, 'function ' || n.nspname || '.' || ${FUNC}
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${isTenantRole('p.proowner')}
  UNION ALL
  SELECT t.typowner, t.typnamespace, 'type ' || n.nspname || '.' || t.typname
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE t.typtype IN ('d', 'e', 'r', 'm') AND ${isTenantRole('t.typowner')}
  UNION ALL
  SELECT n.nspowner, n.oid, 'schema ' || n.nspname FROM pg_namespace n WHERE ${isTenantRole('n.nspowner')}
)`;

/** The reach part's rows: tenant, object, detail, rule, level. */
export const reachRows = (f: Fleet, dataRoles: string): string => `
SELECT r.tenant, 'role ' || pg_get_userbyid(r.member) AS object,
       'is a member of the predefined role' || CASE WHEN count(*) > 1 THEN 's ' ELSE ' ' END ||
       string_agg(r.rolname || coalesce(' (through ' || nullif(r.via, '') || ')', ''), ', ' ORDER BY r.rolname) ||
       CASE WHEN bool_or(r.rolname = ANY(${dataRoles})) THEN ': it reads, writes or runs anything, every tenant''s data included'
            ELSE ': it sees other sessions, other tenants'' queries included' END AS detail,
       'predefined-role' AS rule, CASE WHEN bool_or(r.rolname = ANY(${dataRoles})) THEN 'error' ELSE 'warn' END AS level
  FROM reach r
 WHERE r.tenant = ANY(${f.selected}) AND r.roleid < 16384 AND r.rolname ~ '^pg_'
 GROUP BY r.tenant, r.member
UNION ALL
SELECT tr.tenant, 'role ' || tr.rolname, 'has CREATEROLE: it can grant itself another tenant''s role', 'role-reach', 'error'
  FROM tr JOIN pg_roles ro ON ro.oid = tr.oid WHERE tr.tenant = ANY(${f.selected}) AND ro.rolcreaterole AND NOT ro.rolsuper
UNION ALL
SELECT r.tenant, 'role ' || pg_get_userbyid(r.member),
       'is a member of ' || r.rolname || coalesce(' (through ' || nullif(r.via, '') || ')', '') || ', which ' ||
       concat_ws(' and ', CASE WHEN r.rolsuper THEN 'is a superuser' END, CASE WHEN r.rolbypassrls THEN 'bypasses row level security' END,
                 CASE WHEN r.rolcreaterole THEN 'has CREATEROLE' END), 'role-reach', 'error'
  FROM reach r
 WHERE r.tenant = ANY(${f.selected}) AND (r.rolsuper OR r.rolbypassrls OR r.rolcreaterole)
UNION ALL
SELECT DISTINCT h.tenant, h.label,
       'role ' || pg_get_userbyid((r ->> 'member')::oid) || ' of tenant ' || (r ->> 'tenant') || ' reaches it through role ' || (r ->> 'rolname') ||
       coalesce(' (through ' || nullif(r ->> 'via', '') || ')', '') || ', which has ' || h.privs, 'indirect-grant', 'error'
  FROM holder h
  CROSS JOIN LATERAL jsonb_array_elements((SELECT by_role FROM reach_map) -> h.role::text) AS r
 WHERE (r ->> 'tenant') <> h.tenant
UNION ALL
SELECT ${tenantRole('g.grantee')} ->> 'tenant', g.label,
       CASE WHEN g.grantee = 0 THEN 'PUBLIC has ' || g.privs
            WHEN g.grantee IN (SELECT oid FROM shared_role) THEN 'the shared role (every tenant) has ' || g.privs
            ELSE 'role ' || pg_get_userbyid(g.grantee) || ' has ' || g.privs END ||
       ': the control schema is tenantctl''s own (registry, keys, journal), no tenant''s to read', 'control-grant', 'error'
  FROM control_grant g
 WHERE g.grantee = 0 OR g.grantee IN (SELECT oid FROM shared_role) OR ${isTenantRole('g.grantee')}
UNION ALL
SELECT DISTINCT r.tenant, g.label,
       'role ' || pg_get_userbyid(r.member) || ' of tenant ' || r.tenant || ' reaches it through role ' || r.rolname || ', which has ' || g.privs ||
       ': the control schema is tenantctl''s own, no tenant''s to read', 'control-grant', 'error'
  FROM control_grant g JOIN reach r ON r.roleid = g.grantee
 WHERE NOT ${isTenantRole('g.grantee')} AND g.grantee NOT IN (SELECT oid FROM shared_role) AND r.tenant = ANY(${f.selected})
UNION ALL
SELECT ${tenantRole('o.owner')} ->> 'tenant', o.label, 'is owned by role ' || pg_get_userbyid(o.owner) || ' of tenant ' || (${tenantRole('o.owner')} ->> 'tenant') ||
       ', outside its own schema: the owner can change it, and its privileges and row level security, at will', 'owned-outside', 'error'
  FROM owned o
 WHERE ${tenantRole('o.owner')} ->> 'tenant' = ANY(${f.selected}) AND NOT ${inTenantSchema('o.nsp', 'all')}
   AND NOT EXISTS (SELECT 1 FROM pg_namespace n WHERE n.oid = o.nsp AND n.nspname ~ '^pg_(temp|toast_temp)_')`;
