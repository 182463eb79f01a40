// Talking to the benchmark server: databases per tool and scenario, and catalog counts.
import pg from 'pg';

export const quoteIdent = (name) => `"${String(name).replaceAll('"', '""')}"`;

/** The same server URL, pointing at another database. */
export function urlFor(baseUrl, database) {
  const url = new URL(baseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** Runs fn with a client connected to url, and closes it. */
export async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url, application_name: 'tenantctl-bench' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function serverInfo(baseUrl) {
  return withClient(baseUrl, async (c) => {
    const { rows } = await c.query(`SELECT current_setting('server_version') AS version,
      current_setting('server_version_num')::int AS num, current_setting('shared_buffers') AS shared_buffers,
      current_setting('max_connections') AS max_connections`);
    return rows[0];
  });
}

/**
 * Drops database `name`, then the tenant roles it made (tc<its oid>_...: roles belong to the server,
 * so they outlive the database and would pile up run after run).
 */
export async function dropDatabase(baseUrl, name) {
  await withClient(baseUrl, async (c) => {
    const { rows } = await c.query('SELECT oid::text FROM pg_database WHERE datname = $1', [name]);
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    if (rows.length > 0) await dropTenantRoles(c, rows[0].oid);
  });
}

/** Drops the tenant roles of the database with this oid (the shared role last: the others are its members). */
export async function dropTenantRoles(c, oid) {
  const { rows } = await c.query(`SELECT rolname FROM pg_roles WHERE rolname LIKE $1 ORDER BY rolname LIKE '%\\_\\_shared'`, [
    `tc${oid}\\_%`,
  ]);
  for (const r of rows) await c.query(`DROP ROLE IF EXISTS ${quoteIdent(r.rolname)}`);
}

/**
 * Creates database `name`, empty or as a copy of `template`. On PostgreSQL 15+ the copy uses
 * STRATEGY FILE_COPY: one checkpoint and a file copy, much faster than WAL-logging 10,000 schemas.
 */
export async function createDatabase(baseUrl, name, { template, serverVersionNum } = {}) {
  await dropDatabase(baseUrl, name);
  let sql = `CREATE DATABASE ${quoteIdent(name)}`;
  if (template) {
    sql += ` TEMPLATE ${quoteIdent(template)}`;
    if (serverVersionNum >= 150000) sql += ' STRATEGY FILE_COPY';
  }
  await withClient(baseUrl, (c) => c.query(sql));
  return urlFor(baseUrl, name);
}

/** Flushes dirty buffers so every timed run starts from the same state; ignored without the privilege. */
export async function checkpoint(baseUrl) {
  try {
    await withClient(baseUrl, (c) => c.query('CHECKPOINT'));
    return true;
  } catch {
    return false;
  }
}

/**
 * Per schema whose name matches `pattern` (a POSIX regex): tables, indexes, foreign keys and
 * columns, not counting node-pg-migrate's own pgmigrations table (which lives in each tenant schema).
 * Returns a Map schema -> {tables, indexes, fks, columns}.
 */
export async function schemaCounts(url, pattern) {
  const sql = `
    WITH s AS (SELECT oid, nspname FROM pg_namespace WHERE nspname ~ $1),
    t AS (SELECT relnamespace AS ns, count(*) AS n FROM pg_class
          WHERE relkind IN ('r', 'p') AND relname <> 'pgmigrations' GROUP BY 1),
    i AS (SELECT ic.relnamespace AS ns, count(*) AS n FROM pg_index x
          JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_class tc ON tc.oid = x.indrelid
          WHERE tc.relname <> 'pgmigrations' GROUP BY 1),
    f AS (SELECT connamespace AS ns, count(*) AS n FROM pg_constraint WHERE contype = 'f' GROUP BY 1),
    c AS (SELECT tc.relnamespace AS ns, count(*) AS n FROM pg_attribute a JOIN pg_class tc ON tc.oid = a.attrelid
          WHERE tc.relkind IN ('r', 'p') AND tc.relname <> 'pgmigrations' AND a.attnum > 0 AND NOT a.attisdropped
          AND tc.relnamespace IN (SELECT oid FROM s) GROUP BY 1)
    SELECT s.nspname, coalesce(t.n, 0)::int AS tables, coalesce(i.n, 0)::int AS indexes,
           coalesce(f.n, 0)::int AS fks, coalesce(c.n, 0)::int AS columns
    FROM s LEFT JOIN t ON t.ns = s.oid LEFT JOIN i ON i.ns = s.oid
           LEFT JOIN f ON f.ns = s.oid LEFT JOIN c ON c.ns = s.oid`;
  return withClient(url, async (client) => {
    const { rows } = await client.query(sql, [pattern]);
    return new Map(rows.map((r) => [r.nspname, { tables: r.tables, indexes: r.indexes, fks: r.fks, columns: r.columns }]));
  });
}

/** node-pg-migrate's bookkeeping in one schema: applied names in its own order. */
export async function pgmigrationsNames(client, schema) {
  const { rows } = await client.query(`SELECT name FROM ${quoteIdent(schema)}.pgmigrations ORDER BY run_on, id`);
  return rows.map((r) => r.name);
}
