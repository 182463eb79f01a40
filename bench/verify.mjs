#!/usr/bin/env node
// The verify benchmark: tenantctl verify against the plain count(*) ... WHERE tenant_id <> key scan,
// on a fleet of the example application plus one big tenant, clean and with a few planted violations.
//
//   npm run build
//   node bench/verify.mjs --quick --database-url postgresql://postgres@127.0.0.1:5432/postgres    # 100 tenants, 200k rows, grown to 300
//   node bench/verify.mjs --database-url postgresql://postgres@127.0.0.1:5432/postgres            # 1,000 tenants, 2M rows, grown to 10,000
//
// Four targets, each reported as figures and ratios: verify on a fresh catalog against the same after
// ANALYZE of the catalogs; ownership on the big tenant against a small one; every check against the plain
// scan; and the fleet grown to --scale-tenants (catalog queries per check, peak memory).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkpoint, createDatabase, dropDatabase, serverInfo, withClient } from './lib/pg.mjs';
import { sleep, timed } from './lib/measure.mjs';
import { BIG, bigCounts, createFleet, dropRoles, fillFleet, plantViolations, scanSql, tenantId } from './lib/verify-setup.mjs';
import { freshCatalogPhase, scalePhase, targetSection } from './lib/verify-targets.mjs';
import { report, summarizeLeg } from './lib/verify-report.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
// Its own scratch folder: bench/.work belongs to the other benchmarks, which clear it.
const WORK = join(tmpdir(), `tenantctl-bench-verify-${process.pid}`);
const RESULTS = join(REPO, 'bench', 'results');
const DB = 'bench_verify';
const log = (m) => process.stderr.write(`${m}\n`);

const USAGE = `usage: node bench/verify.mjs [--quick] [--database-url URL] [options]

  --quick              100 tenants, a big tenant of 200,000 rows, grown to 300 (default 1,000, 2,000,000, 10,000)
  --database-url URL   the server (else DATABASE_URL); database ${DB} is created there and dropped after
  --tenants N          small tenants (default 1000, quick 100)
  --rows N             rows per small tenant (default 2000)
  --big-rows N         rows of the big tenant (default 2000000, quick 200000)
  --scale-tenants N    grow the fleet to N tenants at the end and verify it once more (default 10000, quick 300; 0: skip)
  --repeat R           rounds, tools interleaved, median reported (default 5)
  --settle S           seconds of rest before each timed run (default 2)
  --out FILE           result file (default bench/results/<date>-verify[-quick].md)
  --keep               keep the database (and its roles) afterwards
  -h, --help`;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      'database-url': { type: 'string' },
      tenants: { type: 'string' },
      rows: { type: 'string' },
      'big-rows': { type: 'string' },
      'scale-tenants': { type: 'string' },
      repeat: { type: 'string' },
      settle: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    log(USAGE);
    process.exit(0);
  }
  const num = (v, d) => (v === undefined ? d : Number(v));
  const quick = Boolean(values.quick);
  const opts = {
    quick,
    databaseUrl: values['database-url'] ?? process.env.DATABASE_URL,
    n: num(values.tenants, quick ? 100 : 1000),
    rows: num(values.rows, 2000),
    bigRows: num(values['big-rows'], quick ? 200_000 : 2_000_000),
    scaleTenants: num(values['scale-tenants'], quick ? 300 : 10_000),
    repeat: num(values.repeat, 5),
    settle: num(values.settle, 2),
    out: values.out,
    keep: Boolean(values.keep),
  };
  if (!opts.databaseUrl) throw new Error(`no server: pass --database-url or set DATABASE_URL\n${USAGE}`);
  for (const k of ['n', 'rows', 'bigRows', 'repeat'])
    if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new Error(`--${k} must be a positive integer`);
  if (!Number.isInteger(opts.scaleTenants) || (opts.scaleTenants !== 0 && opts.scaleTenants <= opts.n))
    throw new Error('--scale-tenants must be 0 or more than --tenants');
  return opts;
}

/**
 * The timed commands: the scan of the whole fleet, verify --check ownership (the same job), verify
 * with every check; and the big tenant alone, scanned and verified.
 */
function legs(url, files) {
  const tenantctl = (extra) => ({
    cmd: process.execPath,
    args: [join(REPO, 'bin', 'tenantctl.js'), '--database-url', url, 'verify', '--json', ...extra],
  });
  const psql = (file) => ({ cmd: 'psql', args: [url, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-f', file] });
  const fleet = ['scan', 'scan-heap'];
  const big = ['scan-big', 'scan-heap-big'];
  return [
    {
      id: 'scan',
      baselines: fleet,
      label: 'fleet: scan with psql, `SELECT count(*) ... WHERE tenant_id <> key` per table, one session, as planned',
      ...psql(files.scan),
    },
    {
      id: 'scan-heap',
      baselines: fleet,
      label: 'fleet: the same scan with index scans off (every row read from the heap)',
      ...psql(files.scanHeap),
    },
    { id: 'ownership', baselines: fleet, label: 'fleet: `tenantctl verify --check ownership`', ...tenantctl(['--check', 'ownership']) },
    { id: 'verify', baselines: fleet, label: 'fleet: `tenantctl verify` (all 6 checks)', ...tenantctl([]) },
    { id: 'scan-big', baselines: big, label: `tenant ${BIG} alone: the scan of its 4 tables, as planned`, ...psql(files.bigScan) },
    { id: 'scan-heap-big', baselines: big, label: `tenant ${BIG} alone: the scan with index scans off`, ...psql(files.bigScanHeap) },
    {
      id: 'ownership-big',
      baselines: big,
      label: `tenant ${BIG} alone: \`tenantctl verify --check ownership --tenant ${BIG}\``,
      ...tenantctl(['--check', 'ownership', '--tenant', BIG]),
    },
    {
      id: 'ownership-small',
      baselines: big,
      label: `tenant ${tenantId(1)} alone: \`tenantctl verify --check ownership --tenant ${tenantId(1)}\``,
      ...tenantctl(['--check', 'ownership', '--tenant', tenantId(1)]),
    },
  ];
}

/** What a run found, and whether it is what the fleet holds. */
function judge(leg, outcome, expected) {
  const out = readFileSync(outcome.stdoutFile, 'utf8');
  const big = leg.id.endsWith('-big');
  const small = leg.id.endsWith('-small');
  const mine = (e) => (big ? e.tenant === BIG : small ? e.tenant === tenantId(1) : true);
  if (leg.id.startsWith('scan')) {
    const bad = out
      .trim()
      .split('\n')
      .filter((l) => l && Number(l.split('|')[1]) > 0)
      .map((l) => l.split('|')[0]);
    const want = expected
      .filter((e) => e.check === 'ownership' && e.object !== 'invoices' && mine(e))
      .map((e) => `${e.tenant}.${e.object}`);
    const problems = outcome.code !== 0 ? [`exit ${outcome.code}`] : [];
    // the scan's <> cannot see NULL owners: that is the scan's blind spot, not a failed check
    if (bad.sort().join() !== want.sort().join())
      problems.push(`found ${bad.join(', ') || 'nothing'}, expected ${want.join(', ') || 'nothing'}`);
    return { result: bad.length ? `rows in ${bad.join(', ')}` : 'nothing found', problems, roundTrips: null };
  }
  let doc;
  try {
    doc = JSON.parse(out);
  } catch {
    return { result: 'no JSON', problems: [`stdout is not JSON (exit ${outcome.code})`], roundTrips: null };
  }
  const want = leg.id.startsWith('ownership') ? expected.filter((e) => e.check === 'ownership' && mine(e)) : expected;
  const got = doc.violations.map((v) => `${v.check} ${v.tenant} ${v.object}`);
  const missing = want.map((e) => `${e.check} ${e.tenant} ${e.object}`).filter((k) => !got.includes(k));
  const extra = got.filter((k) => !want.some((e) => `${e.check} ${e.tenant} ${e.object}` === k));
  const problems = [];
  if (missing.length) problems.push(`missed ${missing.join('; ')}`);
  if (extra.length) problems.push(`unexpected ${extra.join('; ')}`);
  if (outcome.code !== (want.length ? 1 : 0)) problems.push(`exit ${outcome.code}`);
  const checkSeconds = doc.checks.reduce((n, c) => n + c.seconds, 0);
  return {
    result: `${doc.violations.length} violations, exit ${outcome.code}`,
    problems,
    roundTrips: doc.stats.roundTrips,
    checkSeconds,
    doc,
  };
}

async function measureState(opts, url, name, files, expected) {
  const list = legs(url, files);
  const runs = new Map(list.map((l) => [l.id, []]));
  let lastFull;
  for (let round = 0; round < opts.repeat; round++) {
    const order = list.map((_, i) => list[(i + round) % list.length]);
    for (const leg of order) {
      await checkpoint(opts.databaseUrl);
      await sleep(opts.settle);
      const outcome = await timed(leg.cmd, leg.args, {
        cwd: REPO,
        env: { ...process.env, NO_COLOR: '1' },
        logBase: join(WORK, `${name}-${leg.id}-${round}`),
      });
      const verdict = judge(leg, outcome, expected);
      if (leg.id === 'verify' && verdict.doc) lastFull = verdict.doc;
      runs.get(leg.id).push({ wall: outcome.wall, ...verdict });
      log(
        `[${name} r${round + 1}] ${leg.id}: ${outcome.wall.toFixed(3)} s, ${verdict.result}${verdict.problems.length ? `  !!! ${verdict.problems.join('; ')}` : ''}`,
      );
    }
  }
  return {
    state: {
      name,
      legs: new Map([...runs].map(([id, r]) => [id, summarizeLeg(r)])),
      labels: new Map(list.map((l) => [l.id, l.label])),
      baselines: new Map(list.map((l) => [l.id, l.baselines])),
    },
    perCheck: lastFull?.checks ?? [],
  };
}

/** Server time only: the ownership probe of the big tenant's largest table, against the scan of it, as planned and from the heap. */
async function probePlan(url) {
  const { probeSql } = await import('../dist/src/verify/checks/ownership/probe-sql.js');
  const table = {
    tenant: BIG,
    schema: `tenant_${BIG}`,
    table: 'tasks',
    column: 'tenant_id',
    kind: 'r',
    hasColumn: true,
    typeSchema: 'pg_catalog',
    typeName: 'text',
    typeLabel: 'text',
    indexed: true,
    othersHave: false,
    pages: 1e6,
    tuples: 6e6,
  };
  const scan = `SELECT count(*) FROM "tenant_${BIG}".tasks WHERE tenant_id <> $1`;
  return withClient(url, async (c) => {
    const plan = async (sql) => (await c.query(`EXPLAIN (ANALYZE, COSTS OFF) ${sql}`, [BIG])).rows.map((x) => x['QUERY PLAN']).join('\n');
    const probe = await plan(probeSql(table, 'index', 0, 1));
    const planned = await plan(scan);
    await c.query('SET enable_indexscan = off; SET enable_indexonlyscan = off; SET enable_bitmapscan = off');
    const heap = await plan(scan);
    return `-- the probe\n${probe}\n\n-- the scan, as planned\n${planned}\n\n-- the scan, index scans off\n${heap}`;
  });
}

function resultFile(opts) {
  if (opts.out) return opts.out;
  const base = `${new Date().toISOString().slice(0, 10)}-verify${opts.quick ? '-quick' : ''}`;
  let file = join(RESULTS, `${base}.md`);
  for (let i = 2; existsSync(file); i++) file = join(RESULTS, `${base}-${i}.md`);
  return file;
}

async function main() {
  const opts = options();
  const started = new Date();
  if (!existsSync(join(REPO, 'dist', 'src', 'cli', 'main.js'))) throw new Error('dist/ not found: run npm run build first');
  mkdirSync(WORK, { recursive: true });
  const server = await serverInfo(opts.databaseUrl);
  let oid;
  let interrupted = false;
  const cleanup = async () => {
    if (opts.keep) return;
    await dropDatabase(opts.databaseUrl, DB).catch((e) => log(`could not drop ${DB}: ${e.message}`));
    await dropRoles(opts.databaseUrl, oid).catch((e) => log(`could not drop roles: ${e.message}`));
  };
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log('interrupted: dropping the benchmark database');
    cleanup().finally(() => process.exit(130));
  });
  try {
    const url = await createDatabase(opts.databaseUrl, DB);
    oid = await withClient(
      url,
      async (c) => (await c.query('SELECT oid::int AS oid FROM pg_database WHERE datname = current_database()')).rows[0].oid,
    );
    const t0 = Date.now();
    log(`setup: ${opts.n} tenants + ${BIG} in ${DB}`);
    await createFleet(REPO, url, opts.n, log);
    const ctx = { repo: REPO, url, work: WORK, opts };
    const fresh = await freshCatalogPhase(ctx, log);
    await fillFleet(url, opts.n, opts.rows, opts.bigRows, log);
    const counts = await bigCounts(url);
    log(`setup done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const files = {
      scan: join(WORK, 'scan.sql'),
      scanHeap: join(WORK, 'scan-heap.sql'),
      bigScan: join(WORK, 'scan-big.sql'),
      bigScanHeap: join(WORK, 'scan-heap-big.sql'),
    };
    const heap = 'SET enable_indexscan = off;\nSET enable_indexonlyscan = off;\nSET enable_bitmapscan = off;\n';
    writeFileSync(files.scan, scanSql(opts.n));
    writeFileSync(files.scanHeap, heap + scanSql(opts.n));
    writeFileSync(files.bigScan, scanSql(0));
    writeFileSync(files.bigScanHeap, heap + scanSql(0));

    const clean = await measureState(opts, url, 'clean', files, []);
    const plan = await probePlan(url);
    const planted = await plantViolations(url, opts.n);
    const dirty = await measureState(opts, url, 'dirty', files, planted);

    const scale = opts.scaleTenants ? await scalePhase(ctx, opts.n, opts.scaleTenants, log) : null;
    // The scale run sees the dirty fleet (the planted violations stay): compare with the dirty round's statements.
    const perCheckBefore = Object.fromEntries(dirty.perCheck.map((c) => [c.name, c.roundTrips]));
    const targets = targetSection({ opts, fresh, legs: clean.state.legs, perCheckBefore, scale });
    const text = report({
      opts,
      server,
      fleet: { n: opts.n, rowsPerTenant: opts.rows, bigRows: opts.bigRows, bigCounts: counts, planted },
      states: [clean.state, dirty.state],
      perCheck: [
        ['clean', clean.perCheck],
        ['dirty', dirty.perCheck],
      ],
      plan,
      targets,
      started,
    });
    process.stdout.write(text);
    const file = resultFile(opts);
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(file, text);
    log(`written to ${file}`);
    const failed = [clean, dirty].some((s) => [...s.state.legs.values()].some((l) => l.problems.length));
    process.exitCode = failed ? 1 : 0;
    if (!failed) rmSync(WORK, { recursive: true, force: true });
  } finally {
    await cleanup();
  }
}

main().catch((e) => {
  log(e.stack ?? String(e));
  process.exitCode = 1;
});
