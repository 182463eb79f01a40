// The copy benchmark's data: the example application's four tenant tables, filled in one tenant
// ("src"), kept aside in a plain schema (bench_seed) so every timed run starts from the same rows.

/** Parents first: the order tenantctl plans, and the order the psql floor inserts in. */
export const TABLES = ['customers', 'invoices', 'projects', 'tasks'];

/** How N rows split across the tables: 5% customers, 20% invoices, 15% projects, 60% tasks. */
export function split(rows) {
  const customers = Math.max(1, Math.round(rows * 0.05));
  const invoices = Math.max(1, Math.round(rows * 0.2));
  const projects = Math.max(1, Math.round(rows * 0.15));
  return { customers, invoices, projects, tasks: Math.max(1, rows - customers - invoices - projects) };
}

/** Statements that fill tenant_src with the split, then keep a copy of it in bench_seed. */
export function fillSql(n) {
  return [
    `INSERT INTO tenant_src.customers (tenant_id, name, email, plan_code)
       SELECT 'src', 'customer ' || g, 'c' || g || '@example.com', (ARRAY['free', 'team', 'business'])[1 + g % 3] FROM generate_series(1, ${n.customers}) g`,
    `INSERT INTO tenant_src.projects (tenant_id, customer_id, name, archived)
       SELECT 'src', 1 + g % ${n.customers}, 'project ' || g, g % 10 = 0 FROM generate_series(1, ${n.projects}) g`,
    `INSERT INTO tenant_src.tasks (tenant_id, project_id, title, status, due_date, assignee)
       SELECT 'src', 1 + g % ${n.projects}, 'task number ' || g, (ARRAY['open', 'doing', 'done'])[1 + g % 3],
              date '2024-01-01' + g % 365, 'user' || g % 50 FROM generate_series(1, ${n.tasks}) g`,
    `INSERT INTO tenant_src.invoices (tenant_id, customer_id, amount_cents, status, issued_at)
       SELECT 'src', 1 + g % ${n.customers}, g % 100000, (ARRAY['draft', 'sent', 'paid'])[1 + g % 3], timestamptz '2024-01-01' + g * interval '1 minute'
       FROM generate_series(1, ${n.invoices}) g`,
    'DROP SCHEMA IF EXISTS bench_seed CASCADE',
    'CREATE SCHEMA bench_seed',
    ...TABLES.map((t) => `CREATE TABLE bench_seed.${t} AS SELECT * FROM tenant_src.${t}`),
  ];
}

/** The target emptied, and (after a move) the source refilled from bench_seed. */
export function resetSql({ refillSource }) {
  const list = (schema) => TABLES.map((t) => `${schema}.${t}`).join(', ');
  return [
    `TRUNCATE ${list('tenant_dst')} RESTART IDENTITY`,
    'ALTER SEQUENCE tenant_dst.invoice_number_seq RESTART',
    ...(refillSource
      ? [
          `TRUNCATE ${list('tenant_src')}`,
          ...TABLES.map((t) => `INSERT INTO tenant_src.${t} OVERRIDING SYSTEM VALUE SELECT * FROM bench_seed.${t}`),
        ]
      : []),
  ];
}

/** Run outside a transaction after a reset: hint bits and statistics, the same for every leg. */
export function vacuumSql() {
  return TABLES.flatMap((t) => [`VACUUM (ANALYZE) tenant_src.${t}`, `VACUUM (ANALYZE) tenant_dst.${t}`]);
}

export function countSql(schema) {
  return `SELECT ${TABLES.map((t) => `(SELECT count(*) FROM ${schema}.${t})::int AS ${t}`).join(', ')}`;
}
