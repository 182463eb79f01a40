// What Citus refuses in a tenant migration: the tenant fails with a message naming the Citus rule and the fix,
// and nothing of it is left (the migration ran in the tenant's transaction); migrate lint warns ahead.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from '../support/cli.js';
import { citusProject, createCitusDatabase, type CitusDatabase } from './support.js';

let db: CitusDatabase;
const projects: { dir: string; remove(): void }[] = [];

// Every project shares one more shared table, regions, which the config does not make a reference table.
const CONFIG = { citus: { referenceTables: ['plans'] } };
const REGIONS = `export const up = (pgm) => { pgm.createTable('regions', { id: 'id', name: { type: 'text', notNull: true } }); };\n`;

function project(options: { raw?: boolean; extra?: string }) {
  const p = citusProject({ raw: options.raw, config: CONFIG });
  mkdirSync(join(p.dir, 'migrations/shared'), { recursive: true });
  writeFileSync(join(p.dir, 'migrations/shared/1700000000500_create_regions.js'), REGIONS);
  if (options.extra) writeFileSync(join(p.dir, 'migrations/tenant/1800000000000_extra.sql'), `-- Up Migration\n${options.extra}\n`);
  projects.push(p);
  return p;
}

beforeAll(async () => {
  db = await createCitusDatabase();
});

afterAll(async () => {
  await db?.drop();
  for (const p of projects) p.remove();
});

async function leftovers(id: string): Promise<{ schema: boolean; registry: number; role: number }> {
  const r = await db.pool.query<{ schema: boolean; registry: number; role: number }>(
    `SELECT to_regnamespace($1) IS NOT NULL AS schema,
            (SELECT count(*)::int FROM tenantctl.tenants WHERE id = $2) AS registry,
            (SELECT count(*)::int FROM pg_roles WHERE rolname LIKE 'tc%\\_' || $2) AS role`,
    [`tenant_${id}`, id],
  );
  return r.rows[0]!;
}

describe('Citus refusals', () => {
  it('init makes only the listed shared tables reference tables', async () => {
    const p = project({});
    const r = await cliOn(db.url, { cwd: p.dir })(['init', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ shared: { referenceTables: ['plans'] } });
    const kinds = await db.pool.query(`SELECT table_name::text AS t FROM citus_tables ORDER BY 1`);
    expect(kinds.rows).toEqual([{ t: 'plans' }]);
  });

  it.each([
    [
      'a trigger without citus.enable_unsafe_triggers',
      { raw: true },
      /1700000006000_updated_at_trigger\.sql: triggers are not supported on distributed tables; Citus rule: Citus refuses triggers on distributed tables unless citus\.enable_unsafe_triggers is on; fix: put `SET LOCAL citus\.enable_unsafe_triggers = on;` before CREATE TRIGGER/,
      'citus-trigger',
    ],
    [
      'a foreign key to a plain shared table',
      { extra: 'CREATE TABLE offices (id bigint PRIMARY KEY, region_id bigint REFERENCES regions (id));' },
      /1800000000000_extra\.sql: referenced table "regions" must be a distributed table or a reference table.*Citus rule: on Citus a tenant table may reference only tables of its own schema or reference tables; fix: make the shared table a reference table/,
      'citus-foreign-key-to-plain-table',
    ],
    [
      'CREATE SCHEMA ... CREATE TABLE',
      { extra: 'CREATE SCHEMA reports_x CREATE TABLE daily (id int);' },
      /1800000000000_extra\.sql.*cannot create distributed schema and table in a single statement.*Citus rule: Citus cannot make a distributed schema and its tables in one CREATE SCHEMA \.\.\. CREATE TABLE statement; fix: create the schema first/,
      'citus-create-schema-with-table',
    ],
  ])('%s: the tenant fails naming the rule and the fix, nothing is left; lint warns ahead', async (_what, options, message, rule) => {
    const p = project(options);
    const cli = cliOn(db.url, { cwd: p.dir });
    const id = `t${projects.length}`;
    const lint = await cli(['migrate', 'lint', '--json', ...(await tenantFiles(p.dir))]);
    expect(lint.json<{ findings: { rule: string }[] }>().findings.map((f) => f.rule)).toContain(rule);
    const r = await cli(['tenant', 'create', id]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(message);
    expect(await leftovers(id)).toEqual({ schema: false, registry: 0, role: 0 });
    expect((await db.pool.query(`SELECT 1 FROM pg_dist_schema WHERE schemaid::regnamespace::text LIKE 'tenant_${id}%'`)).rowCount).toBe(0);
  });
});

async function tenantFiles(dir: string): Promise<string[]> {
  const { readdirSync } = await import('node:fs');
  return readdirSync(join(dir, 'migrations/tenant'))
    .sort()
    .map((f) => join(dir, 'migrations/tenant', f));
}
