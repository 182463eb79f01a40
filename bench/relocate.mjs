#!/usr/bin/env node
// The relocate benchmark, one run, three PostgreSQL servers on this machine:
//  1. copy mode: `tenant relocate ID --to b --mode copy` of one tenant of the example application
//     (1,000,000 rows by default) against the hand-made way, `pg_dump -n SCHEMA | psql` of the same
//     schema into the same target server, at two sizes (a tenth, and the full size) so peak memory
//     can be compared across row counts;
//  2. logical mode: the same tenant size on a source with wal_level=logical, relocated while a
//     writer inserts into it through the server the placements map names, retrying on error: the
//     longest gap between two acknowledged writes, and every acknowledged write checked on the target.
// The source is --database-url; the target (b) and the wal_level=logical source are embedded
// PostgreSQL servers the script starts under bench/.work/relocate. See docs/relocate.md.
//
//   npm run build && node bench/relocate.mjs --database-url postgresql://postgres@127.0.0.1:5432/postgres
//   node bench/relocate.mjs --rows 200000 --database-url ...
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { split, TABLES } from './lib/copy-data.mjs';
import { haveGnuTime, run, tail, timed } from './lib/measure.mjs';
import { checkpoint, createDatabase, dropDatabase, serverInfo, withClient } from './lib/pg.mjs';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK = join(REPO_ROOT, 'bench', '.work', 'relocate');
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
const BIN = join(REPO_ROOT, 'bin', 'tenantctl.js');
const DATABASE = 'bench_relocate';
const log = (msg) => process.stderr.write(`${msg}\n`);

function parse(argv) {
  const o = { rows: 1_000_000, databaseUrl: process.env.DATABASE_URL, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--rows') o.rows = Number(next());
    else if (a === '--database-url') o.databaseUrl = next();
    else if (a === '--out') o.out = next();
    else if (a === '--help') {
      log('node bench/relocate.mjs [--rows N] [--database-url URL] [--out FILE]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!Number.isInteger(o.rows) || o.rows < 1000) throw new Error('--rows must be a whole number of at least 1000');
  if (!o.databaseUrl) throw new Error('give --database-url (a server; the script makes and drops its own databases)');
  return o;
}

const fmt = (s) => `${s.toFixed(2)} s`;
const mb = (kb) => (kb === null || kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;

/** The example application's four tables in tenant ID, N rows split as the copy benchmark splits them. */
function fillSql(id, rows) {
  const n = split(rows);
  const s = `"tenant_${id}"`;
  return [
    `INSERT INTO ${s}.customers (tenant_id, name, email, plan_code)
       SELECT '${id}', 'customer ' || g, 'c' || g || '@example.com', (ARRAY['free', 'team', 'business'])[1 + g % 3] FROM generate_series(1, ${n.customers}) g`,
    `INSERT INTO ${s}.projects (tenant_id, customer_id, name, archived)
       SELECT '${id}', 1 + g % ${n.customers}, 'project ' || g, g % 10 = 0 FROM generate_series(1, ${n.projects}) g`,
    `INSERT INTO ${s}.tasks (tenant_id, project_id, title, status, due_date, assignee)
       SELECT '${id}', 1 + g % ${n.projects}, 'task number ' || g, (ARRAY['open', 'doing', 'done'])[1 + g % 3],
              date '2024-01-01' + g % 365, 'user' || g % 50 FROM generate_series(1, ${n.tasks}) g`,
    `INSERT INTO ${s}.invoices (tenant_id, customer_id, amount_cents, status, issued_at)
       SELECT '${id}', 1 + g % ${n.customers}, g % 100000, (ARRAY['draft', 'sent', 'paid'])[1 + g % 3], timestamptz '2024-01-01' + g * interval '1 minute'
       FROM generate_series(1, ${n.invoices}) g`,
    ...TABLES.map((t) => `VACUUM (ANALYZE) ${s}.${t}`),
  ];
}

async function total(url, schema) {
  return withClient(url, async (c) => {
    const r = await c.query(`SELECT ${TABLES.map((t) => `(SELECT count(*) FROM "${schema}".${t})`).join(' + ')} AS n`);
    return Number(r.rows[0].n);
  });
}

async function startServer(name, flags) {
  const { startEmbedded } = await import('../dist/src/db/embedded.js');
  return startEmbedded({ baseDir: join(WORK, name), serverFlags: flags });
}

/** One size, copy mode: the hand-made dump | psql into a database of its own on b, then relocate. */
async function copyLeg(env, id, rows) {
  const { homeUrl, bAdmin, bUrl, tenantctl } = env;
  await tenantctl('tenant', 'create', id);
  await withClient(homeUrl, async (c) => {
    for (const sql of fillSql(id, rows)) await c.query(sql);
  });
  const moved = await total(homeUrl, `tenant_${id}`);
  // The hand-made way: the schema (structure and rows) through pg_dump into psql, into an empty database
  // that has the shared table its foreign keys name.
  const handUrl = await createDatabase(bAdmin, `${DATABASE}_hand`);
  await run('bash', [
    '-c',
    'set -o pipefail; pg_dump -O -x -t public.plans "$1" | psql -X -q -v ON_ERROR_STOP=1 "$2"',
    'plans',
    homeUrl,
    handUrl,
  ]);
  await checkpoint(homeUrl);
  const hand = await timed(
    'bash',
    ['-c', `set -o pipefail; pg_dump -O -x -n "tenant_${id}" "$1" | psql -X -q -v ON_ERROR_STOP=1 -1 "$2"`, 'hand', homeUrl, handUrl],
    {
      cwd: WORK,
      env: process.env,
      logBase: join(WORK, `hand-${id}`),
    },
  );
  if (hand.code !== 0) throw new Error(`pg_dump | psql: exit ${hand.code}: ${tail(hand.stderrFile, 600)}`);
  if ((await total(handUrl, `tenant_${id}`)) !== moved) throw new Error('pg_dump | psql check: row count differs');
  await dropDatabase(bAdmin, `${DATABASE}_hand`);
  await checkpoint(homeUrl);
  const r = await timed(
    process.execPath,
    [BIN, '--database-url', homeUrl, '--verbose', 'tenant', 'relocate', id, '--to', 'b', '--mode', 'copy', '--json'],
    {
      cwd: WORK,
      env: { ...process.env, NO_COLOR: '1', TC_BENCH_B_URL: bUrl, TC_BENCH_L_URL: env.lUrl },
      logBase: join(WORK, `relocate-${id}`),
    },
  );
  if (r.code !== 0) throw new Error(`relocate: exit ${r.code}: ${tail(r.stderrFile, 600)}`);
  const doc = JSON.parse(readFileSync(r.stdoutFile, 'utf8'));
  if (doc.rows !== moved || (await total(bUrl, `tenant_${id}`)) !== moved)
    throw new Error(`relocate check: ${doc.rows} rows, expected ${moved}`);
  return { rows: moved, bytes: doc.bytes, relocate: r, hand, seconds: doc.seconds };
}

/** Logical mode: a writer through the move; the longest gap between two acknowledged writes. */
async function logicalLeg(env, id, rows) {
  const { homeUrl, lUrl, tenantctl } = env;
  await tenantctl('tenant', 'create', id, '--server', 'logi');
  await withClient(lUrl, async (c) => {
    for (const sql of fillSql(id, rows)) await c.query(sql);
  });
  const moved = await total(lUrl, `tenant_${id}`);
  const pools = { default: new pg.Pool({ connectionString: homeUrl, max: 2 }), logi: new pg.Pool({ connectionString: lUrl, max: 2 }) };
  const acked = [];
  let failures = 0;
  let longest = 0;
  let stop = false;
  let last = performance.now();
  const where = async () =>
    (await pools.default.query(`SELECT server FROM tenantctl.placements WHERE tenant_id = $1`, [id])).rows[0]?.server ?? 'default';
  const writer = (async () => {
    for (let n = 1; !stop; n++) {
      for (;;) {
        try {
          await pools[await where()].query(`INSERT INTO "tenant_${id}".customers (tenant_id, name) VALUES ($1, $2)`, [id, `w${n}`]);
          acked.push(`w${n}`);
          const now = performance.now();
          longest = Math.max(longest, now - last);
          last = now;
          break;
        } catch {
          failures++;
        }
      }
    }
  })();
  while (acked.length < 50) await new Promise((resolve) => setTimeout(resolve, 10));
  last = performance.now();
  longest = 0;
  const r = await timed(
    process.execPath,
    [BIN, '--database-url', homeUrl, '--verbose', 'tenant', 'relocate', id, '--to', 'default', '--mode', 'logical', '--json'],
    {
      cwd: WORK,
      env: { ...process.env, NO_COLOR: '1', TC_BENCH_B_URL: env.bUrl, TC_BENCH_L_URL: lUrl },
      logBase: join(WORK, `relocate-${id}`),
    },
  );
  const gapDuringMove = longest;
  const after = acked.length;
  while (acked.length < after + 50) await new Promise((resolve) => setTimeout(resolve, 10));
  stop = true;
  await writer;
  if (r.code !== 0) throw new Error(`relocate --mode logical: exit ${r.code}: ${tail(r.stderrFile, 600)}`);
  const landed = (await pools.default.query(`SELECT name FROM "tenant_${id}".customers WHERE name LIKE 'w%'`)).rows.map((x) => x.name);
  await Promise.all(Object.values(pools).map((p) => p.end()));
  const lost = acked.filter((n) => !landed.includes(n)).length;
  const extra = landed.length - acked.length;
  if (lost > 0 || extra !== 0) throw new Error(`logical check: ${lost} acknowledged writes missing, ${extra} unexpected rows`);
  const doc = JSON.parse(readFileSync(r.stdoutFile, 'utf8'));
  return { rows: moved, relocate: r, seconds: doc.seconds, mode: doc.mode, acked: acked.length, failures, gapMs: gapDuringMove };
}

async function main() {
  const o = parse(process.argv.slice(2));
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  cpSync(join(REPO_ROOT, 'migrations'), join(WORK, 'migrations'), { recursive: true });
  writeFileSync(join(WORK, 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(WORK, 'tenantctl.config.json'), JSON.stringify({ servers: { b: '${TC_BENCH_B_URL}', logi: '${TC_BENCH_L_URL}' } }));
  const server = await serverInfo(o.databaseUrl);
  log('starting the target server (b) and the wal_level=logical source (logi)');
  // One after the other: the embedded package is loaded once per process.
  const b = await startServer('b', []);
  const l = await startServer('logi', ['-c', 'wal_level=logical']);
  const bServer = await serverInfo(b.url);
  const loadBefore = loadavg()[1];
  try {
    const homeUrl = await createDatabase(o.databaseUrl, DATABASE);
    const bUrl = await createDatabase(b.url, DATABASE);
    const lUrl = await createDatabase(l.url, DATABASE);
    const childEnv = { ...process.env, TC_BENCH_B_URL: bUrl, TC_BENCH_L_URL: lUrl };
    const tenantctl = (...args) => run(process.execPath, [BIN, '--database-url', homeUrl, ...args], { cwd: WORK, env: childEnv });
    await tenantctl('init');
    const env = { homeUrl, bAdmin: b.url, bUrl, lUrl, tenantctl };
    const small = Math.max(1000, Math.round(o.rows / 10));
    log(`copy mode: ${small.toLocaleString('en-US')} rows`);
    const c1 = await copyLeg(env, 'small', small);
    log(`copy mode: ${o.rows.toLocaleString('en-US')} rows`);
    const c2 = await copyLeg(env, 'large', o.rows);
    log(`logical mode: ${o.rows.toLocaleString('en-US')} rows with a writer`);
    const lg = await logicalLeg(env, 'live', o.rows);
    const lines = [
      '# tenant relocate benchmark',
      '',
      `Source PostgreSQL ${server.version} (shared_buffers ${server.shared_buffers}, --database-url); target and wal_level=logical source: embedded PostgreSQL ${bServer.version} on the same machine; ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}; one run; peak RSS ${haveGnuTime ? 'from GNU time (the CLI process; for the hand-made way the largest of pg_dump and psql)' : 'not measured (no /usr/bin/time)'}.`,
      '',
      '## Copy mode against `pg_dump -O -x -n SCHEMA | psql -1` into the same target server (no owners or grants: the target has no tenant role)',
      '',
      '| rows | tenant relocate --mode copy | pg_dump -O -x -n \\| psql -1 | ratio | COPY bytes | relocate peak RSS | hand-made peak RSS |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...[c1, c2].map(
        (x) =>
          `| ${x.rows.toLocaleString('en-US')} | ${fmt(x.relocate.wall)} | ${fmt(x.hand.wall)} | ${ratio(x.relocate.wall, x.hand.wall)} | ${(x.bytes / 2 ** 20).toFixed(1)} MiB | ${mb(x.relocate.rssKb)} | ${mb(x.hand.rssKb)} |`,
      ),
      '',
      `Ratio at ${c2.rows.toLocaleString('en-US')} rows: ${ratio(c2.relocate.wall, c2.hand.wall)} (the target is 1.2x). Peak RSS at ${c2.rows.toLocaleString('en-US')} rows over ${c1.rows.toLocaleString('en-US')} rows (10x the rows): ${c1.relocate.rssKb && c2.relocate.rssKb ? ratio(c2.relocate.rssKb, c1.relocate.rssKb) : 'n/a'}. The relocation's wall time includes its Node start-up, rebuilding the structure from the migrations, the checksums of every table on both sides and the archive of the source; writes to the tenant wait for the whole copy in this mode.`,
      '',
      '## Logical mode with a writer',
      '',
      '| rows | tenant relocate --mode logical | writes acknowledged | retried | longest gap between two acknowledged writes | every acknowledged write on the target |',
      '| ---: | ---: | ---: | ---: | ---: | --- |',
      `| ${lg.rows.toLocaleString('en-US')} | ${fmt(lg.relocate.wall)} | ${lg.acked} | ${lg.failures} | ${lg.gapMs.toFixed(0)} ms | yes |`,
      '',
      `Longest gap: ${lg.gapMs.toFixed(0)} ms (the target is under 1 s). The writer inserts one row at a time through a pool on the server the placements map names, and reads the map again after an error.`,
      '',
      `Load average (5 min) ${loadBefore.toFixed(2)} at the start, ${loadavg()[1].toFixed(2)} at the end.`,
    ];
    const text = `${lines.join('\n')}\n`;
    process.stdout.write(text);
    mkdirSync(RESULTS_DIR, { recursive: true });
    const out = o.out ?? join(RESULTS_DIR, `${new Date().toISOString().slice(0, 10)}-relocate.md`);
    writeFileSync(out, text);
    log(`wrote ${out}`);
  } finally {
    await dropDatabase(o.databaseUrl, DATABASE).catch(() => undefined);
    await Promise.all([b.stop(), l.stop()]);
  }
}

main().catch((err) => {
  log(err.stack ?? String(err));
  process.exitCode = 1;
});
