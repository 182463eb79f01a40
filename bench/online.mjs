#!/usr/bin/env node
// The online-migration benchmark: writers on every tenant while tenantctl builds an index, (a) in a
// transactional migration and (b) CONCURRENTLY in a pgm.noTransaction() one, against writers alone;
// then a 10-second lock held on one tenant's table during a migration, with and without retries.
// Figures and ratios only. See docs/online-migrations.md.
//
//   npm run build && node bench/online.mjs --database-url postgresql://postgres@127.0.0.1:5432/postgres --tenants 4 --rows 100000
import { spawn } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { dropDatabase, quoteIdent, serverInfo, urlFor, withClient } from './lib/pg.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(REPO, 'bin', 'tenantctl.js');
const WORK = join(REPO, 'bench', '.work', 'online');
const DB = 'bench_online';
const log = (msg) => process.stderr.write(`${msg}\n`);

const USAGE = `node bench/online.mjs [--database-url URL] [--tenants N] [--rows R] [--writers W] [--rate N] [--baseline-seconds S] [--hold-seconds H]
  --database-url   a server (default DATABASE_URL); the script creates and drops database ${DB} there
  --tenants        tenants (default 20)
  --rows           rows per tenant (default 500000)
  --writers        writer connections per tenant (default 1)
  --rate           writes per second per writer (default 100; 0: as fast as it can, which measures capacity, not latency)
  --baseline-seconds  how long writers run with no migration (default 10)
  --hold-seconds   how long the lock is held on one tenant's table in the last part (default 10)`;

function options() {
  const { values } = parseArgs({
    options: {
      'database-url': { type: 'string' },
      tenants: { type: 'string', default: '20' },
      rows: { type: 'string', default: '500000' },
      writers: { type: 'string', default: '1' },
      rate: { type: 'string', default: '100' },
      'baseline-seconds': { type: 'string', default: '10' },
      'hold-seconds': { type: 'string', default: '10' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const url = values['database-url'] ?? process.env.DATABASE_URL;
  if (!url) throw new Error(`no server: pass --database-url or set DATABASE_URL\n${USAGE}`);
  const int = (name) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1`);
    return n;
  };
  const rate = Number(values.rate);
  if (!Number.isInteger(rate) || rate < 0) throw new Error('--rate must be a whole number (0 or more)');
  return {
    url,
    rate,
    tenants: int('tenants'),
    rows: int('rows'),
    writers: int('writers'),
    baselineSeconds: int('baseline-seconds'),
    holdSeconds: int('hold-seconds'),
  };
}

const ids = (n) => Array.from({ length: n }, (_, i) => `t${String(i + 1).padStart(3, '0')}`);

const MIGRATIONS = {
  '1700000000000_bench_rows.sql': `-- Up Migration
CREATE TABLE bench_rows (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id text NOT NULL, n int NOT NULL, payload text NOT NULL);
`,
  '1700000001000_index_in_transaction.sql': `-- Up Migration
CREATE INDEX bench_rows_payload_tx ON bench_rows (payload, n);
`,
  '1700000002000_index_concurrently.js': `export const up = (pgm) => {
  pgm.noTransaction();
  pgm.createIndex('bench_rows', ['payload', 'n'], { concurrently: true, ifNotExists: true, name: 'bench_rows_payload_cc' });
};
`,
  '1700000002500_index_concurrently_one_at_a_time.js': `export const up = (pgm) => {
  pgm.noTransaction();
  pgm.createIndex('bench_rows', ['payload', 'n'], { concurrently: true, ifNotExists: true, name: 'bench_rows_payload_cc1' });
};
`,
  '1700000003000_add_column.sql': `-- Up Migration
ALTER TABLE bench_rows ADD COLUMN flag int;
`,
  '1700000004000_add_column_again.sql': `-- Up Migration
ALTER TABLE bench_rows ADD COLUMN flag2 int;
`,
};

function project() {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(join(WORK, 'tenant'), { recursive: true });
  mkdirSync(join(WORK, 'shared'), { recursive: true });
  for (const [file, text] of Object.entries(MIGRATIONS)) writeFileSync(join(WORK, 'tenant', file), text);
  writeFileSync(join(WORK, 'package.json'), '{"type":"module"}\n');
  writeFileSync(
    join(WORK, 'tenantctl.config.json'),
    JSON.stringify({ roles: false, tenantMigrations: 'tenant', sharedMigrations: 'shared' }),
  );
}

/** Runs the built CLI in the bench project; resolves with exit code, parsed JSON and wall seconds. */
function tenantctl(url, args) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, '--database-url', url, ...args, '--json'], {
      cwd: WORK,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let json;
      try {
        json = JSON.parse(out);
      } catch {
        json = undefined;
      }
      resolve({ code, json, stderr: err, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** Writers: each loops over single-statement writes (an INSERT, then an UPDATE of a random row) on its tenant until stopped. */
function startWriters(url, tenants, perTenant, rows, rate) {
  const latencies = [];
  let errors = 0;
  let firstError;
  let stop = false;
  const clients = [];
  const loops = [];
  const started = performance.now();
  for (const id of tenants) {
    for (let w = 0; w < perTenant; w++) {
      const client = new pg.Client({ connectionString: url, application_name: 'bench-writer' });
      clients.push(client);
      loops.push(
        (async () => {
          await client.connect();
          const table = `${quoteIdent(`tenant_${id}`)}.bench_rows`;
          let i = 0;
          const first = performance.now();
          while (!stop) {
            // Paced: the k-th write is due k/rate seconds after the first; a writer that fell behind writes at once.
            const due = rate > 0 ? first + (i * 1000) / rate : 0;
            const ahead = due - performance.now();
            if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
            if (stop) break;
            const t0 = performance.now();
            try {
              if (i++ % 2 === 0)
                await client.query(`INSERT INTO ${table} (tenant_id, n, payload) VALUES ($1, $2, md5($3))`, [id, i, String(i)]);
              else await client.query(`UPDATE ${table} SET n = n + 1 WHERE id = $1`, [1 + Math.floor(Math.random() * rows)]);
              latencies.push(performance.now() - t0);
            } catch (err) {
              errors++;
              firstError ??= err.message;
            }
          }
          await client.end();
        })(),
      );
    }
  }
  return {
    async stop() {
      stop = true;
      await Promise.all(loops);
      return { ...summary(latencies, errors), firstError, seconds: (performance.now() - started) / 1000 };
    },
  };
}

function summary(latencies, errors) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
  return { writes: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN, errors };
}

const ms = (v) => (Number.isFinite(v) ? v.toFixed(1) : '-');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '-');

async function setup(url, opts) {
  log(`setup: database ${DB}, ${opts.tenants} tenants at the first migration`);
  await dropDatabase(opts.url, DB);
  await withClient(opts.url, (c) => c.query(`CREATE DATABASE ${quoteIdent(DB)}`));
  project();
  const created = await tenantctl(url, ['tenant', 'create', ...ids(opts.tenants)]);
  if (created.code !== 0) throw new Error(`tenant create failed: ${created.stderr}`);
  // The CLI created them at the head; the later migrations are what the benchmark times, so take them back out of the journal.
  await withClient(url, async (c) => {
    await c.query(`DELETE FROM tenantctl.tenant_migrations WHERE name <> '1700000000000_bench_rows'`);
    for (const id of ids(opts.tenants)) {
      const schema = quoteIdent(`tenant_${id}`);
      await c.query(
        `DROP INDEX ${schema}.bench_rows_payload_tx; DROP INDEX ${schema}.bench_rows_payload_cc; DROP INDEX ${schema}.bench_rows_payload_cc1; ALTER TABLE ${schema}.bench_rows DROP COLUMN flag, DROP COLUMN flag2`,
      );
      log(`setup: ${id}: ${opts.rows} rows`);
      await c.query(
        `INSERT INTO ${schema}.bench_rows (tenant_id, n, payload) SELECT $1, g, md5(g::text) FROM generate_series(1, $2::int) g`,
        [id, opts.rows],
      );
    }
    await c.query('VACUUM ANALYZE');
  });
}

/** Writers during one migrate run (up to `to`); the writers start before it and stop when it ends. */
async function during(url, opts, to, flags = []) {
  const writers = startWriters(url, ids(opts.tenants), opts.writers, opts.rows, opts.rate);
  await new Promise((r) => setTimeout(r, 1000)); // let the writers reach a steady state
  const run = await tenantctl(url, ['migrate', '--to', to, ...flags]);
  const w = await writers.stop();
  return { ...w, migrate: run };
}

/** Untimed, between parts: the index the last part built goes, so every part's writers maintain the same indexes. */
async function dropIndex(url, opts, name) {
  await withClient(url, async (c) => {
    for (const id of ids(opts.tenants)) await c.query(`DROP INDEX IF EXISTS ${quoteIdent(`tenant_${id}`)}.${quoteIdent(name)}`);
  });
}

async function main() {
  const opts = options();
  const url = urlFor(opts.url, DB);
  const server = await serverInfo(opts.url);
  const started = new Date();
  try {
    await setup(url, opts);

    log(`part 1: writers alone for ${opts.baselineSeconds} s`);
    const base = startWriters(url, ids(opts.tenants), opts.writers, opts.rows, opts.rate);
    await new Promise((r) => setTimeout(r, opts.baselineSeconds * 1000));
    const none = { ...(await base.stop()), migrate: undefined };
    log('part 1: writers during a migrate with nothing to do (tenantctl start-up alone)');
    const idle = await during(url, opts, '1700000000000_bench_rows');
    log('part 1: writers during (a), CREATE INDEX in a transactional migration');
    const a = await during(url, opts, '1700000001000_index_in_transaction');
    log('part 1: writers during (b), CREATE INDEX CONCURRENTLY in a pgm.noTransaction() migration');
    await dropIndex(url, opts, 'bench_rows_payload_tx');
    const b = await during(url, opts, '1700000002000_index_concurrently');
    log('part 1: writers during (b) at --concurrency 1: one build at a time');
    await dropIndex(url, opts, 'bench_rows_payload_cc');
    const b1 = await during(url, opts, '1700000002500_index_concurrently_one_at_a_time', ['--concurrency', '1']);
    await dropIndex(url, opts, 'bench_rows_payload_cc1');

    log(`part 2: an application transaction holds a lock on t001's table for ${opts.holdSeconds} s during migrate (lockTimeout 5s)`);
    const held = async (name, extra) =>
      withClient(url, async (app) => {
        await app.query('BEGIN');
        await app.query('SELECT count(*) FROM tenant_t001.bench_rows');
        const release = setTimeout(() => void app.query('COMMIT'), opts.holdSeconds * 1000);
        const run = await tenantctl(url, ['migrate', '--to', name, ...extra]);
        clearTimeout(release);
        await app.query('COMMIT').catch(() => undefined);
        return run;
      });
    const noRetry = await held('1700000003000_add_column', ['--lock-retries', '0']);
    const withRetry = await held('1700000004000_add_column_again', []);
    // The tenant the first run failed is brought along by the second one (both migrations pending for it).

    const rows = [
      ['no migration', none],
      ['migrate with nothing pending', idle],
      ['(a) CREATE INDEX, transactional', a],
      ['(b) CREATE INDEX CONCURRENTLY', b],
      ['(b) the same, --concurrency 1', b1],
    ];
    const lines = [];
    lines.push(`# online migrations, ${started.toISOString()}`);
    lines.push('');
    lines.push(
      `PostgreSQL ${server.version}; ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    lines.push(
      `${opts.tenants} tenants x ${opts.rows} rows; ${opts.writers} writer connection(s) per tenant (INSERT / UPDATE by key, one statement each, autocommit), ${opts.rate ? `${opts.rate} writes/s each` : 'as fast as they can'}; tenantctl concurrency 4 unless said`,
    );
    lines.push(
      'Writers run 1 s before each migrate starts and stop when it exits (tenantctl start-up included); the index is on (payload, n), payload an md5 text.',
    );
    lines.push('');
    lines.push('| writers during | writes | writes/s | p50 ms | p99 ms | max ms | errors | migrate s | exit |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [label, r] of rows) {
      lines.push(
        `| ${label} | ${r.writes} | ${(r.writes / r.seconds).toFixed(0)} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.errors} | ${r.migrate ? r.migrate.seconds.toFixed(1) : '-'} | ${r.migrate ? r.migrate.code : '-'} |`,
      );
    }
    lines.push('');
    for (const [label, r] of rows) if (r.firstError) lines.push(`${label}: first writer error: ${r.firstError}`);
    lines.push(
      `p99 ratio to no migration: nothing pending ${ratio(idle.p99, none.p99)}, (a) ${ratio(a.p99, none.p99)}, (b) ${ratio(b.p99, none.p99)}, (b) at concurrency 1 ${ratio(b1.p99, none.p99)}; ` +
        `max ratio: (a) ${ratio(a.max, none.max)}, (b) ${ratio(b.max, none.max)}, (b) at concurrency 1 ${ratio(b1.max, none.max)}`,
    );
    lines.push(
      `p99 ratio to migrate with nothing pending (the same tenantctl start-up on the same cores): (a) ${ratio(a.p99, idle.p99)}, (b) ${ratio(b.p99, idle.p99)}, (b) at concurrency 1 ${ratio(b1.p99, idle.p99)}; ` +
        `max ratio: (a) ${ratio(a.max, idle.max)}, (b) ${ratio(b.max, idle.max)}, (b) at concurrency 1 ${ratio(b1.max, idle.max)}`,
    );
    lines.push('');
    const t001 = (run) => run.json?.tenants?.find((t) => t.id === 't001');
    for (const [label, run] of [
      ['--lock-retries 0', noRetry],
      ['lockRetries default (3)', withRetry],
    ]) {
      const t = t001(run);
      lines.push(
        `${opts.holdSeconds} s lock on t001, ${label}: exit ${run.code} in ${run.seconds.toFixed(1)} s; t001 ${t?.status ?? '?'}${t?.attempts ? ` after ${t.attempts} attempts` : ''}; summary ${JSON.stringify(run.json?.summary ?? {})}`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await dropDatabase(opts.url, DB).catch(() => undefined);
  }
}

main().catch((err) => {
  log(`bench/online.mjs: ${err.message}`);
  process.exitCode = 1;
});
