#!/usr/bin/env node
// Taking a spare of the pool, the statement alone: the control schema before version 4 moved the spare's
// journal (one row per migration) to the new id; version 4 keys the journal by journal_id and renames one
// registry row. Both on the same server, interleaved, at several history lengths. Reports figures and
// ratios; it judges nothing. See docs/instant-create.md.
//
//   node bench/create-take.mjs --database-url postgresql://postgres@127.0.0.1:5432/postgres [--histories 20,150,500] [--samples 100]
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dropDatabase, quoteIdent, serverInfo, urlFor, withClient } from './lib/pg.mjs';

function options(argv) {
  const o = { databaseUrl: process.env.DATABASE_URL, histories: [20, 150, 500], samples: 100 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--database-url') o.databaseUrl = argv[++i];
    else if (a === '--histories') o.histories = argv[++i].split(',').map(Number);
    else if (a === '--samples') o.samples = Number(argv[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.databaseUrl) throw new Error('--database-url or DATABASE_URL names the server');
  return o;
}

/** The two layouts of the registry and the journal, as src/control/ddl.ts makes them (version 3, version 4). */
const LAYOUT = {
  moved: `CREATE TABLE moved.tenants (id text PRIMARY KEY, schema_name text NOT NULL UNIQUE, key text NOT NULL,
      pooled boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE moved.tm (tenant_id text NOT NULL REFERENCES moved.tenants (id) ON DELETE CASCADE, name text NOT NULL,
      checksum text NOT NULL, run_on timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, name))`,
  keyed: `CREATE TABLE keyed.tenants (id text PRIMARY KEY, journal_id text UNIQUE, schema_name text NOT NULL UNIQUE, key text NOT NULL,
      pooled boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE keyed.tm (tenant_id text NOT NULL REFERENCES keyed.tenants (journal_id) ON DELETE CASCADE, name text NOT NULL,
      checksum text NOT NULL, run_on timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, name))`,
};

/** The new tenant's registry row (the BEGIN message's insert), then the take itself: what the COMMIT message sends. */
const insertSql = (way, i) =>
  way === 'moved'
    ? `INSERT INTO moved.tenants (id, schema_name, key) VALUES ('t${i}', 's_t${i}', 't${i}')`
    : `INSERT INTO keyed.tenants (id, journal_id, schema_name, key) VALUES ('t${i}', 't${i}', 's_t${i}', 't${i}')`;
const takeSql = (way, i) =>
  way === 'moved'
    ? `UPDATE moved.tm SET tenant_id = 't${i}' WHERE tenant_id = 'pool_${i}'; DELETE FROM moved.tenants WHERE id = 'pool_${i}' AND pooled`
    : `WITH n AS (DELETE FROM keyed.tenants WHERE id = 't${i}' AND NOT pooled RETURNING *)
       UPDATE keyed.tenants s SET id = n.id, schema_name = n.schema_name, key = n.key, pooled = false, created_at = n.created_at
       FROM n WHERE s.id = 'pool_${i}' AND s.pooled`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

async function history(c, length, samples) {
  for (const way of ['moved', 'keyed']) {
    await c.query(`DROP SCHEMA IF EXISTS ${way} CASCADE; CREATE SCHEMA ${way}; ${LAYOUT[way]}`);
    const journal = way === 'keyed' ? 'journal_id, ' : '';
    await c.query(`INSERT INTO ${way}.tenants (id, ${journal}schema_name, key, pooled)
      SELECT 'pool_' || i, ${way === 'keyed' ? "'pool_' || i, " : ''}'s_pool_' || i, 'pool_' || i, true FROM generate_series(1, ${samples}) i`);
    await c.query(`INSERT INTO ${way}.tm (tenant_id, name, checksum)
      SELECT 'pool_' || i, '17' || lpad(j::text, 8, '0') || '000_m', md5(j::text) FROM generate_series(1, ${samples}) i, generate_series(1, ${length}) j`);
    await c.query(`VACUUM ANALYZE ${way}.tm`);
    await c.query(`VACUUM ANALYZE ${way}.tenants`);
  }
  const times = { moved: [], keyed: [] };
  for (let i = 1; i <= samples; i++) {
    // Interleaved, each first every other time: the machine's load falls on both.
    for (const way of i % 2 ? ['moved', 'keyed'] : ['keyed', 'moved']) {
      await c.query(`BEGIN; ${insertSql(way, i)}`);
      const started = performance.now();
      await c.query(`${takeSql(way, i)}; COMMIT`);
      times[way].push(performance.now() - started);
    }
  }
  // Both ways leave every new tenant with its whole journal.
  const moved = (await c.query(`SELECT count(*)::int AS n FROM moved.tm WHERE tenant_id LIKE 't%'`)).rows[0].n;
  const keyed = (
    await c.query(`SELECT count(*)::int AS n FROM keyed.tm m JOIN keyed.tenants t ON t.journal_id = m.tenant_id WHERE t.id LIKE 't%'`)
  ).rows[0].n;
  if (moved !== samples * length || keyed !== samples * length)
    throw new Error(`journals: ${moved} and ${keyed} rows, not ${samples * length}`);
  return times;
}

async function main() {
  const o = options(process.argv.slice(2));
  const server = await serverInfo(o.databaseUrl);
  const name = 'bench_create_take';
  await dropDatabase(o.databaseUrl, name);
  await withClient(o.databaseUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  const start = loadavg();
  const rows = [];
  try {
    await withClient(urlFor(o.databaseUrl, name), async (c) => {
      for (const length of o.histories) rows.push({ length, ...(await history(c, length, o.samples)) });
    });
  } finally {
    await dropDatabase(o.databaseUrl, name);
  }
  const ms = (x) => x.toFixed(2);
  const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
  process.stdout.write(
    [
      `# Taking a spare: journal rows moved (control schema 3) against one registry row renamed (4)`,
      '',
      `PostgreSQL ${server.version}; ${cpus().length} cores; load average ${load(start)} at the start, ${load(loadavg())} at the end.`,
      `${o.samples} takes per layout and history, interleaved; the time of the message holding the take and COMMIT.`,
      '',
      '| journal rows | moved: p50 ms | p99 ms | renamed: p50 ms | p99 ms | renamed / moved (p50) |',
      '| --- | --- | --- | --- | --- | --- |',
      ...rows.map(
        (r) =>
          `| ${r.length} | ${ms(median(r.moved))} | ${ms(pct(r.moved, 99))} | ${ms(median(r.keyed))} | ${ms(pct(r.keyed, 99))} | ${(median(r.keyed) / median(r.moved)).toFixed(2)}x |`,
      ),
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exitCode = 1;
});
