#!/usr/bin/env node
// The export/import and query benchmark, one server, one run:
//  1. `tenant export` + `tenant import` of one tenant of the example application against
//     `pg_dump -n` + `pg_restore` (the restored schema renamed), at two sizes (so peak memory
//     can be compared across row counts);
//  2. `query` over T tenants against one hand-written UNION ALL over every schema in one psql statement.
// Figures and ratios only; see docs/export.md and docs/query.md for measured runs.
//
//   npm run build && node bench/export.mjs --database-url postgresql://postgres@127.0.0.1:5432/postgres            # reduced: 100,000 rows, 100 tenants
//   node bench/export.mjs --full --database-url ...                                                              # 1,000,000 rows, 1,000 tenants
//   node bench/export.mjs --rows 200000 --tenants 300 --repeat 3
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countSql, fillSql, split, TABLES } from './lib/copy-data.mjs';
import { haveGnuTime, run, tail, timed } from './lib/measure.mjs';
import { checkpoint, createDatabase, dropDatabase, serverInfo, withClient } from './lib/pg.mjs';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK = join(REPO_ROOT, 'bench', '.work', 'export');
const BIN = join(REPO_ROOT, 'bin', 'tenantctl.js');
const log = (msg) => process.stderr.write(`${msg}\n`);

function parse(argv) {
  const o = { rows: 100_000, tenants: 100, repeat: 1, concurrency: 4, databaseUrl: process.env.DATABASE_URL };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--full') Object.assign(o, { rows: 1_000_000, tenants: 1000 });
    else if (a === '--rows') o.rows = Number(next());
    else if (a === '--tenants') o.tenants = Number(next());
    else if (a === '--repeat') o.repeat = Number(next());
    else if (a === '--concurrency') o.concurrency = Number(next());
    else if (a === '--database-url') o.databaseUrl = next();
    else if (a === '--help') {
      log('node bench/export.mjs [--full] [--rows N] [--tenants T] [--repeat R] [--concurrency C] [--database-url URL]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  for (const k of ['rows', 'tenants', 'repeat', 'concurrency'])
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`--${k} must be a whole number of at least 1`);
  if (!o.databaseUrl) throw new Error('give --database-url (a server; the script makes and drops its own databases)');
  return o;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (s) => `${s.toFixed(2)} s`;
const mb = (kb) => (kb === null || kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);

async function leg(name, cmd, args, opts = {}) {
  const r = await timed(cmd, args, { cwd: opts.cwd ?? WORK, env: { ...process.env, NO_COLOR: '1' }, logBase: join(WORK, name) });
  if (r.code !== 0) throw new Error(`${name}: exit ${r.code}: ${tail(r.stderrFile, 600)}`);
  return r;
}

async function exportImport(o, url, rows) {
  const tenantctl = (...args) => run(process.execPath, [BIN, '--database-url', url, ...args], { cwd: REPO_ROOT });
  const n = split(rows);
  await withClient(url, async (c) => {
    await c.query(`TRUNCATE ${TABLES.map((t) => `tenant_src.${t}`).join(', ')} RESTART IDENTITY CASCADE`);
    for (const sql of fillSql(n)) await c.query(sql);
    await c.query('DROP SCHEMA bench_seed CASCADE');
    for (const t of TABLES) await c.query(`VACUUM (ANALYZE) tenant_src.${t}`);
  });
  const total = Object.values(n).reduce((a, b) => a + b, 0);
  const runs = { export: [], import: [], dump: [], restore: [] };
  for (let r = 0; r < o.repeat; r++) {
    const dir = join(WORK, 'out');
    const dump = join(WORK, 'src.dump');
    rmSync(dir, { recursive: true, force: true });
    rmSync(dump, { force: true });
    await checkpoint(o.databaseUrl);
    runs.export.push(
      await leg('export', process.execPath, [BIN, '--database-url', url, 'tenant', 'export', 'src', '--out', dir, '--json', '--quiet'], {
        cwd: REPO_ROOT,
      }),
    );
    await checkpoint(o.databaseUrl);
    runs.import.push(
      await leg('import', process.execPath, [BIN, '--database-url', url, 'tenant', 'import', dir, '--as', 'dst', '--json', '--quiet'], {
        cwd: REPO_ROOT,
      }),
    );
    await withClient(url, async (c) => {
      const got = (await c.query(countSql('tenant_dst'))).rows[0];
      const sum = Object.values(got).reduce((a, b) => a + b, 0);
      const foreign = (await c.query(`SELECT count(*)::int AS k FROM tenant_dst.tasks WHERE tenant_id <> 'dst'`)).rows[0].k;
      if (sum !== total || foreign !== 0)
        throw new Error(`import check: ${sum} rows (expected ${total}), ${foreign} tasks without dst's key`);
    });
    await tenantctl('tenant', 'remove', 'dst', '--purge', '--yes');
    await checkpoint(o.databaseUrl);
    runs.dump.push(await leg('pg_dump', 'pg_dump', ['-Fc', '-Z0', '-n', 'tenant_src', '-f', dump, url]));
    // pg_restore cannot rename a schema: the source steps aside, the restored schema is renamed, the source comes back.
    await withClient(url, (c) => c.query('ALTER SCHEMA tenant_src RENAME TO tenant_src_aside'));
    await checkpoint(o.databaseUrl);
    const restore = await leg('pg_restore', 'bash', [
      '-c',
      `pg_restore -1 -d "$1" "$2" && psql -X -q "$1" -c 'ALTER SCHEMA tenant_src RENAME TO tenant_pgr'`,
      'restore',
      url,
      dump,
    ]);
    runs.restore.push(restore);
    await withClient(url, async (c) => {
      await c.query('ALTER SCHEMA tenant_src_aside RENAME TO tenant_src');
      const got = (await c.query(countSql('tenant_pgr'))).rows[0];
      if (Object.values(got).reduce((a, b) => a + b, 0) !== total) throw new Error('pg_restore check: row count differs');
      await c.query('DROP SCHEMA tenant_pgr CASCADE');
    });
  }
  const pick = (k) => ({ wall: median(runs[k].map((x) => x.wall)), rssKb: Math.max(...runs[k].map((x) => x.rssKb ?? 0)) || null });
  const bytes = JSON.parse(readFileSync(join(WORK, 'export.stdout'), 'utf8')).bytes;
  return { rows: total, bytes, export: pick('export'), import: pick('import'), dump: pick('dump'), restore: pick('restore') };
}

async function queryLeg(o, url) {
  const ids = Array.from({ length: o.tenants }, (_, i) => `q${String(i + 1).padStart(5, '0')}`);
  for (let i = 0; i < ids.length; i += 200)
    await run(process.execPath, [BIN, '--database-url', url, 'tenant', 'create', ...ids.slice(i, i + 200), '--quiet'], { cwd: REPO_ROOT });
  await withClient(url, async (c) => {
    for (const id of ids)
      await c.query(`INSERT INTO "tenant_${id}".customers (tenant_id, name) SELECT '${id}', 'c' || g FROM generate_series(1, 20) g`);
  });
  const statement = 'SELECT count(*) AS n, max(name) AS top FROM customers';
  const union = ids
    .map((id) => `SELECT '${id}' AS tenant, count(*) AS n, max(name) AS top FROM "tenant_${id}".customers`)
    .join(' UNION ALL ');
  writeFileSync(join(WORK, 'union.sql'), `${union};\n`);
  const runs = { tenantctl: [], psql: [] };
  for (let r = 0; r < o.repeat; r++) {
    runs.tenantctl.push(
      await leg(
        'query',
        process.execPath,
        [BIN, '--database-url', url, 'query', '--format', 'csv', '--quiet', '--concurrency', String(o.concurrency), '-c', statement],
        { cwd: REPO_ROOT },
      ),
    );
    runs.psql.push(await leg('union', 'psql', ['-X', '-q', '-A', '-F', ',', '-v', 'ON_ERROR_STOP=1', url, '-f', join(WORK, 'union.sql')]));
  }
  const lines = readFileSync(join(WORK, 'query.stdout'), 'utf8').trim().split('\n').length - 1;
  if (lines !== o.tenants) throw new Error(`query check: ${lines} rows, expected ${o.tenants}`);
  return { tenantctl: median(runs.tenantctl.map((x) => x.wall)), psql: median(runs.psql.map((x) => x.wall)) };
}

async function main() {
  const o = parse(process.argv.slice(2));
  mkdirSync(WORK, { recursive: true });
  const server = await serverInfo(o.databaseUrl);
  const url = await createDatabase(o.databaseUrl, 'bench_export');
  const start = await timed(process.execPath, [BIN, '--version'], { cwd: WORK, env: process.env, logBase: join(WORK, 'version') });
  const loadBefore = loadavg()[1];
  try {
    await run(process.execPath, [BIN, '--database-url', url, 'tenant', 'create', 'src', '--quiet'], { cwd: REPO_ROOT });
    const small = await exportImport(o, url, Math.max(1000, Math.round(o.rows / 10)));
    const big = await exportImport(o, url, o.rows);
    await run(process.execPath, [BIN, '--database-url', url, 'tenant', 'remove', 'src', '--purge', '--yes', '--quiet'], { cwd: REPO_ROOT });
    const q = await queryLeg(o, url);
    const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
    const lines = [
      `# tenant export / import and query benchmark`,
      '',
      `PostgreSQL ${server.version}, shared_buffers ${server.shared_buffers}; ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}; medians of ${o.repeat}; tenantctl start-up ${fmt(start.wall)}; peak RSS ${haveGnuTime ? 'from GNU time' : 'not measured (no /usr/bin/time)'}.`,
      '',
      '| rows | export | pg_dump -Fc -Z0 -n | ratio | import | pg_restore -1 + rename | ratio | export+import vs dump+restore | export RSS | import RSS | pg_dump RSS |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...[small, big].map(
        (x) =>
          `| ${x.rows.toLocaleString('en-US')} | ${fmt(x.export.wall)} | ${fmt(x.dump.wall)} | ${ratio(x.export.wall, x.dump.wall)} | ${fmt(x.import.wall)} | ${fmt(x.restore.wall)} | ${ratio(x.import.wall, x.restore.wall)} | ${ratio(x.export.wall + x.import.wall, x.dump.wall + x.restore.wall)} | ${mb(x.export.rssKb)} | ${mb(x.import.rssKb)} | ${mb(x.dump.rssKb)} |`,
      ),
      '',
      `Peak RSS at ${big.rows.toLocaleString('en-US')} rows over ${small.rows.toLocaleString('en-US')} rows: export ${big.export.rssKb && small.export.rssKb ? ratio(big.export.rssKb, small.export.rssKb) : 'n/a'}, import ${big.import.rssKb && small.import.rssKb ? ratio(big.import.rssKb, small.import.rssKb) : 'n/a'} (10x the rows). Export folder: ${(big.bytes / 2 ** 20).toFixed(1)} MiB.`,
      '',
      `| query over ${o.tenants} tenants | tenantctl query --concurrency ${o.concurrency} (csv) | psql, one UNION ALL statement | ratio |`,
      '| --- | ---: | ---: | ---: |',
      `| \`SELECT count(*), max(name) FROM customers\` | ${fmt(q.tenantctl)} | ${fmt(q.psql)} | ${ratio(q.tenantctl, q.psql)} |`,
      '',
      `Load average (5 min) ${loadBefore.toFixed(2)} at the start, ${loadavg()[1].toFixed(2)} at the end.`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await dropDatabase(o.databaseUrl, 'bench_export');
  }
}

main().catch((err) => {
  log(err.stack ?? String(err));
  process.exitCode = 1;
});
