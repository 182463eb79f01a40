// The verify benchmark's fleet: N tenants of the example application with a few hundred rows each,
// one big tenant, and the violations planted between the clean and the dirty rounds.
import { join } from 'node:path';
import { dropTenantRoles, quoteIdent, withClient } from './pg.mjs';
import { run } from './measure.mjs';

export const TABLES = ['customers', 'projects', 'tasks', 'invoices'];
export const tenantId = (i) => `t${String(i).padStart(5, '0')}`;
export const BIG = 'big';
const CREATE_BATCH = 250;

const lit = (s) => `'${String(s).replaceAll("'", "''")}'`;

/**
 * `tenant create` through the CLI in batches: the example app's 9 migrations, a role per tenant.
 * Tenants from..n (`from` > 1: more tenants for a fleet that exists, without the big one).
 */
export async function createFleet(repoRoot, url, n, log, from = 1) {
  const bin = join(repoRoot, 'bin', 'tenantctl.js');
  const cli = (args) =>
    run(process.execPath, [bin, '--database-url', url, ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' } });
  if (from === 1) await cli(['init', '--json']);
  for (let first = from; first <= n; first += CREATE_BATCH) {
    const last = Math.min(n, first + CREATE_BATCH - 1);
    const ids = Array.from({ length: last - first + 1 }, (_, j) => tenantId(first + j));
    await cli(['tenant', 'create', ...ids, '--concurrency', '2', '--json']);
    log(`  created tenants ${first}..${last}`);
  }
  if (from === 1) await cli(['tenant', 'create', BIG, '--json']);
}

/**
 * Rows for one tenant, written the way the application would (tenant_id = the key), split
 * 10% customers, 10% projects, 60% tasks, 20% invoices of `rows`.
 */
function fillSql(id, rows) {
  const s = quoteIdent(`tenant_${id}`);
  const c = Math.max(1, Math.round(rows * 0.1));
  const tasksPerProject = 6;
  const invoicesPerCustomer = 2;
  return `
    INSERT INTO ${s}.customers (tenant_id, name, email) SELECT ${lit(id)}, 'customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, ${c}) g;
    INSERT INTO ${s}.projects (tenant_id, customer_id, name) SELECT ${lit(id)}, id, 'project ' || id FROM ${s}.customers;
    INSERT INTO ${s}.tasks (tenant_id, project_id, title, status, due_date)
      SELECT ${lit(id)}, p.id, 'task ' || g, (ARRAY['open', 'doing', 'done'])[1 + g % 3], current_date + g % 30
      FROM ${s}.projects p, generate_series(1, ${tasksPerProject}) g;
    INSERT INTO ${s}.invoices (tenant_id, customer_id, amount_cents, status)
      SELECT ${lit(id)}, cu.id, 100 * g, 'sent' FROM ${s}.customers cu, generate_series(1, ${invoicesPerCustomer}) g;`;
}

/** Fills every small tenant (`rowsPerTenant` each) and the big one, `jobs` sessions at a time, then VACUUM ANALYZE. */
export async function fillFleet(url, n, rowsPerTenant, bigRows, log) {
  const ids = Array.from({ length: n }, (_, i) => tenantId(i + 1));
  let next = 0;
  const worker = () =>
    withClient(url, async (c) => {
      while (next < ids.length) {
        const batch = ids.slice(next, next + 50);
        next += 50;
        await c.query(`BEGIN; ${batch.map((id) => fillSql(id, rowsPerTenant)).join('\n')} COMMIT;`);
      }
    });
  await Promise.all([worker(), worker()]);
  log(`  filled ${n} tenants with ${rowsPerTenant} rows each`);
  await withClient(url, (c) => c.query(fillSql(BIG, bigRows)));
  log(`  filled tenant ${BIG} with ${bigRows} rows`);
  await withClient(url, (c) => c.query('VACUUM ANALYZE'));
}

/** Exact row counts of the big tenant, per table. */
export async function bigCounts(url) {
  return withClient(url, async (c) => {
    const out = {};
    for (const t of TABLES)
      out[t] = Number((await c.query(`SELECT count(*) AS n FROM ${quoteIdent(`tenant_${BIG}`)}.${quoteIdent(t)}`)).rows[0].n);
    return out;
  });
}

/** The plain scan everyone writes: count(*) ... WHERE tenant_id <> key, every table of every tenant, one session. */
export function scanSql(n) {
  const ids = [...Array.from({ length: n }, (_, i) => tenantId(i + 1)), BIG];
  // n = 0: the big tenant alone
  return ids
    .flatMap((id) =>
      TABLES.map(
        (t) =>
          `SELECT ${lit(`${id}.${t}`)} AS "table", count(*) FROM ${quoteIdent(`tenant_${id}`)}.${quoteIdent(t)} WHERE tenant_id <> ${lit(id)};`,
      ),
    )
    .join('\n');
}

/**
 * A few violations, of several checks: rows of another tenant in a small tenant and in the big one
 * (deep inside its largest table), a NULL owner, a view reading another tenant, a grant to PUBLIC.
 * Returns what verify must report.
 */
export async function plantViolations(url, n) {
  const victim = tenantId(Math.max(1, Math.floor(n / 2)));
  const other = tenantId(1);
  const big = quoteIdent(`tenant_${BIG}`);
  await withClient(url, (c) =>
    c.query(`
      UPDATE ${quoteIdent(`tenant_${victim}`)}.tasks SET tenant_id = ${lit(other)} WHERE id IN (SELECT id FROM ${quoteIdent(`tenant_${victim}`)}.tasks ORDER BY id LIMIT 3);
      UPDATE ${big}.tasks SET tenant_id = ${lit(other)} WHERE id = (SELECT max(id) / 2 FROM ${big}.tasks);
      ALTER TABLE ${big}.invoices ALTER COLUMN tenant_id DROP NOT NULL;
      UPDATE ${big}.invoices SET tenant_id = NULL WHERE id = (SELECT max(id) FROM ${big}.invoices);
      CREATE VIEW ${quoteIdent(`tenant_${other}`)}.peek AS SELECT * FROM ${quoteIdent(`tenant_${victim}`)}.customers;
      GRANT USAGE ON SCHEMA ${quoteIdent(`tenant_${victim}`)} TO PUBLIC;`),
  );
  return [
    { check: 'ownership', tenant: victim, object: 'tasks' },
    { check: 'ownership', tenant: BIG, object: 'tasks' },
    { check: 'ownership', tenant: BIG, object: 'invoices' },
    { check: 'references', tenant: other, object: 'view peek' },
    { check: 'privileges', tenant: victim, object: `schema tenant_${victim}` },
    { check: 'drift', tenant: BIG, object: 'column invoices.tenant_id' },
    { check: 'drift', tenant: other, object: 'view peek' },
  ];
}

/** Drops the tenant roles the benchmark database made (roles belong to the server, not the database). */
export async function dropRoles(baseUrl, oid) {
  if (!oid) return;
  await withClient(baseUrl, (c) => dropTenantRoles(c, oid));
}

/** The catalogs whose statistics a fresh database inherits from template1 (what verify's catalog queries join). */
export const CATALOGS = [
  'pg_depend',
  'pg_class',
  'pg_proc',
  'pg_type',
  'pg_namespace',
  'pg_attribute',
  'pg_constraint',
  'pg_rewrite',
  'pg_trigger',
  'pg_attrdef',
  'pg_inherits',
  'pg_policy',
  'pg_auth_members',
];

/** ANALYZE of those catalogs only (the fresh-catalog target compares verify before and after it). */
export async function analyzeCatalogs(url) {
  await withClient(url, (c) => c.query(`ANALYZE ${CATALOGS.join(', ')}`));
}

/** Whether anything analyzed pg_depend, pg_class, pg_proc or pg_type since the database was made. */
export async function catalogsAnalyzed(url) {
  return withClient(url, async (c) => {
    const r = await c.query(`SELECT relname FROM pg_stat_sys_tables WHERE relname IN ('pg_depend', 'pg_class', 'pg_proc', 'pg_type')
                               AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL) ORDER BY 1`);
    return r.rows.map((x) => x.relname);
  });
}
