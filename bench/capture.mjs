#!/usr/bin/env node
// The capture benchmark: one template schema captured from the catalog (tenantctl's way) and with
// `pg_dump --schema --inserts` (the way it replaced), side by side in one run: the time to capture,
// the script's size, and the time to run each script into a new schema (in a transaction rolled back).
// Reports figures and ratios; it judges nothing. See docs/instant-create.md.
//
//   npm run build && node bench/capture.mjs --database-url postgresql://postgres@127.0.0.1:5432/postgres
//   (pg_dump on the PATH must be at least the server's major version, for the pg_dump leg)
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { catalogScript } from '../dist/src/tenants/instant/catalog-script.js';
import { createDatabase, dropDatabase, serverInfo, withClient } from './lib/pg.mjs';

function options(argv) {
  const o = { databaseUrl: process.env.DATABASE_URL, tables: 20, rows: 200, repeat: 15 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--database-url') o.databaseUrl = argv[++i];
    else if (a === '--tables') o.tables = Number(argv[++i]);
    else if (a === '--rows') o.rows = Number(argv[++i]);
    else if (a === '--repeat') o.repeat = Number(argv[++i]);
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.databaseUrl) throw new Error('--database-url or DATABASE_URL names the server');
  return o;
}

const SCHEMA = 'bench$Tcapture';

/** A head like a real application's: tables with identity keys, foreign keys, indexes, checks, comments, rows; and the other kinds once. */
function headSql(tables, rows) {
  const parts = [
    `CREATE SCHEMA "${SCHEMA}"`,
    `SET search_path = "${SCHEMA}"`,
    `CREATE TYPE state AS ENUM ('new', 'open', 'closed')`,
    `CREATE DOMAIN cents AS bigint CHECK (VALUE >= 0)`,
    `CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$`,
  ];
  for (let t = 0; t < tables; t++) {
    const ref = t > 0 ? `, parent_id bigint REFERENCES t${t - 1} (id)` : '';
    parts.push(
      `CREATE TABLE t${t} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, state state DEFAULT 'new', amount cents DEFAULT 0,
        code serial, note text, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz${ref}, CHECK (length(name) < 200))`,
      `CREATE INDEX t${t}_name ON t${t} (name)`,
      `CREATE INDEX t${t}_state ON t${t} (state, created_at)`,
      `CREATE TRIGGER t${t}_touch BEFORE UPDATE ON t${t} FOR EACH ROW EXECUTE FUNCTION touch()`,
      `COMMENT ON TABLE t${t} IS 'table ${t}'`,
      `COMMENT ON COLUMN t${t}.note IS 'free text'`,
      `INSERT INTO t${t} (name, note) SELECT 'row ' || i, 'it''s ' || i FROM generate_series(1, ${rows}) i`,
      `GRANT SELECT ON t${t} TO PUBLIC`,
    );
  }
  parts.push(
    `CREATE TABLE events (id bigserial, at date NOT NULL, kind state, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`,
    `CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`,
    `CREATE TABLE events_rest PARTITION OF events DEFAULT`,
    `CREATE VIEW t0_open AS SELECT id, name FROM t0 WHERE state = 'open'`,
    `CREATE MATERIALIZED VIEW t0_counts AS SELECT state, count(*) AS n FROM t0 GROUP BY state`,
    `ALTER TABLE t0 ENABLE ROW LEVEL SECURITY`,
    `CREATE POLICY t0_all ON t0 USING (true)`,
  );
  return parts.join(';\n');
}

/** pg_dump's plain script made fit for one transaction, as tenantctl did before: no header, no psql meta-commands, SETs made LOCAL. */
function runnableDump(dump) {
  const lines = dump.split('\n');
  const first = lines.findIndex((l) => l.startsWith('-- Name: '));
  const out = (first < 0 ? [] : lines.slice(first - 1))
    .filter((l) => !/^\\(un)?restrict /.test(l))
    .map((l) =>
      /^SET (default_tablespace|default_table_access_method|default_with_oids) = [^;]*;$/.test(l) ? l.replace(/^SET /, 'SET LOCAL ') : l,
    );
  return ["SET LOCAL search_path = '';", 'SET LOCAL check_function_bodies = false;', ...out].join('\n');
}

function pgDump(url) {
  return new Promise((resolve, reject) =>
    execFile(
      'pg_dump',
      ['--schema', `"${SCHEMA}"`, '--inserts', '--no-tablespaces', '--dbname', url],
      { maxBuffer: 1 << 28 },
      (err, out, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(runnableDump(out))),
    ),
  );
}

async function catalog(url) {
  return withClient(url, async (c) => {
    await c.query('BEGIN READ ONLY');
    try {
      const r = await catalogScript(c, SCHEMA);
      if (r.reasons) throw new Error(r.reasons.join('; '));
      return r.script;
    } finally {
      await c.query('ROLLBACK');
    }
  });
}

/** Runs a script into schema `name` (the template's name replaced) and rolls it back. */
async function runInto(client, script, name) {
  const text = script.split(`"${SCHEMA}"`).join(`"${name}"`).split(SCHEMA).join(name);
  await client.query('BEGIN');
  try {
    await client.query(text);
  } finally {
    await client.query('ROLLBACK');
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs) => `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}`;
async function timed(fn) {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

async function main() {
  const o = options(process.argv.slice(2));
  const server = await serverInfo(o.databaseUrl);
  const dumpVersion = await new Promise((resolve) => execFile('pg_dump', ['--version'], (err, out) => resolve(err ? 'none' : out.trim())));
  const db = `tc_bench_capture_${process.pid}`;
  const url = await createDatabase(o.databaseUrl, db);
  const loadStart = loadavg();
  const legs = { catalog: { capture: [], run: [] }, dump: { capture: [], run: [] } };
  const scripts = {};
  try {
    await withClient(url, (c) => c.query(headSql(o.tables, o.rows)));
    await withClient(url, async (c) => {
      for (let i = 0; i < o.repeat; i++) {
        for (const [leg, capture] of [
          ['catalog', () => catalog(url)],
          ['dump', () => pgDump(url)],
        ]) {
          const cap = await timed(capture);
          legs[leg].capture.push(cap.ms);
          scripts[leg] = cap.value;
          legs[leg].run.push((await timed(() => runInto(c, cap.value, `copy_${leg}`))).ms);
        }
      }
    });
  } finally {
    await dropDatabase(o.databaseUrl, db);
  }
  const loadEnd = loadavg();
  const row = (leg, name) =>
    `| ${name} | ${median(legs[leg].capture).toFixed(1)} (${range(legs[leg].capture)}) | ${median(legs[leg].run).toFixed(1)} (${range(legs[leg].run)}) | ${(scripts[leg].length / 1024).toFixed(0)} |`;
  const ratio = (k) => (median(legs.catalog[k]) / median(legs.dump[k])).toFixed(2);
  process.stdout.write(
    [
      '# Capturing the head: catalog script against pg_dump',
      '',
      `PostgreSQL ${server.version}; ${dumpVersion}; ${cpus().length} cores; load average ${loadStart.map((x) => x.toFixed(2)).join(' ')} at the start, ${loadEnd.map((x) => x.toFixed(2)).join(' ')} at the end; Node ${process.version}.`,
      `Template: ${o.tables} tables (identity key, serial, enum, domain, check, foreign key, 2 indexes, trigger, comments, grant, ${o.rows} rows each), a partitioned table with 2 partitions, a view, a materialized view, a policy.`,
      `${o.repeat} rounds, the two legs interleaved; median (min-max) ms. "run" is the script run into another schema in one transaction, rolled back.`,
      '',
      '| capture | capture ms | run ms | script KiB |',
      '| --- | --- | --- | --- |',
      row('catalog', 'catalog (catalog-script.ts)'),
      row('dump', 'pg_dump --schema --inserts'),
      '',
      `catalog / pg_dump: capture ${ratio('capture')}x, run ${ratio('run')}x.`,
      '',
    ].join('\n'),
  );
}

await main();
