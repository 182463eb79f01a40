#!/usr/bin/env node
// The copy/move benchmark: tenantctl copy and move of a whole tenant (the example application,
// 1,000,000 rows by default) against the same INSERT ... SELECT (and DELETE) statements in one
// psql transaction, on one server, in one run, legs interleaved. See bench/README.md and docs/copy.md.
//
//   npm run build && node bench/copy.mjs --quick --database-url postgresql://postgres@127.0.0.1:5432/postgres
import { cpus, loadavg, totalmem } from 'node:os';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COPY_USAGE, CopyUsageError, parseCopyOptions } from './lib/copy-args.mjs';
import { countSql, fillSql, resetSql, split, TABLES, vacuumSql } from './lib/copy-data.mjs';
import { legs as makeLegs } from './lib/copy-legs.mjs';
import { copyReport } from './lib/copy-report.mjs';
import { run, sleep, tail, timed } from './lib/measure.mjs';
import { checkpoint, createDatabase, dropDatabase, serverInfo, withClient } from './lib/pg.mjs';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK_DIR = join(REPO_ROOT, 'bench', '.work', 'copy');
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
const DATABASE = 'bench_copy';
const CONFIG = join(WORK_DIR, 'tenantctl.config.json');
const log = (msg) => process.stderr.write(`${msg}\n`);

async function setup(opts, url, n) {
  const bin = join(REPO_ROOT, 'bin', 'tenantctl.js');
  const tenantctl = (...args) => run(process.execPath, [bin, '--database-url', url, '--config', CONFIG, ...args], { cwd: WORK_DIR });
  await tenantctl('init');
  await tenantctl('tenant', 'create', 'src', 'dst');
  const started = Date.now();
  await withClient(url, async (c) => {
    for (const sql of fillSql(n)) await c.query(sql);
  });
  log(
    `setup: ${opts.rows.toLocaleString('en-US')} rows in tenant src (${Object.entries(n)
      .map(([t, k]) => `${t} ${k}`)
      .join(', ')}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

async function reset(url, refillSource) {
  await withClient(url, async (c) => {
    await c.query('BEGIN');
    for (const sql of resetSql({ refillSource })) await c.query(sql);
    await c.query('COMMIT');
    for (const sql of vacuumSql()) await c.query(sql);
  });
}

/** What a finished leg must have left: every row in dst with dst's key, and src emptied by a move. */
async function check(url, leg, n, result) {
  const problems = [];
  if (result.code !== 0) problems.push(`exit ${result.code}: ${tail(result.stderrFile, 300)}`);
  await withClient(url, async (c) => {
    const dst = (await c.query(countSql('tenant_dst'))).rows[0];
    const src = (await c.query(countSql('tenant_src'))).rows[0];
    for (const t of TABLES) {
      if (dst[t] !== n[t]) problems.push(`tenant_dst.${t} has ${dst[t]} rows, expected ${n[t]}`);
      const left = leg.verb === 'move' ? 0 : n[t];
      if (src[t] !== left) problems.push(`tenant_src.${t} has ${src[t]} rows, expected ${left}`);
    }
    const foreign = (await c.query(`SELECT count(*)::int AS k FROM tenant_dst.tasks WHERE tenant_id <> 'dst'`)).rows[0].k;
    if (foreign) problems.push(`${foreign} tasks in dst do not carry its key`);
  });
  if (!leg.floor && result.code === 0) {
    const { readFileSync } = await import('node:fs');
    const doc = JSON.parse(readFileSync(result.stdoutFile, 'utf8'));
    const total = Object.values(n).reduce((a, b) => a + b, 0);
    if (doc.version !== 1 || doc.rows !== total) problems.push(`JSON says ${doc.rows} rows, expected ${total}`);
  }
  return problems;
}

async function main() {
  let opts;
  try {
    opts = parseCopyOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof CopyUsageError) {
      log(err.message);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  if (opts.help) {
    process.stdout.write(`${COPY_USAGE}\n`);
    return;
  }
  if (!existsSync(join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'))) {
    log('dist/ is missing: run `npm run build` first');
    process.exitCode = 2;
    return;
  }
  mkdirSync(join(WORK_DIR, 'logs'), { recursive: true });
  // The example application, whatever the current directory holds. No per-tenant roles: they do
  // not take part in a copy, and roles belong to the server, so they would outlive the database.
  writeFileSync(
    CONFIG,
    JSON.stringify({
      tenantMigrations: join(REPO_ROOT, 'migrations', 'tenant'),
      sharedMigrations: join(REPO_ROOT, 'migrations', 'shared'),
      roles: false,
    }),
  );
  const server = await serverInfo(opts.databaseUrl);
  const url = await createDatabase(opts.databaseUrl, DATABASE);
  const onSignal = async () => {
    if (!opts.keep) await dropDatabase(opts.databaseUrl, DATABASE).catch(() => undefined);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  try {
    const n = split(opts.rows);
    const loadBefore = loadavg()[1];
    await setup(opts, url, n);
    const legs = makeLegs({ repoRoot: REPO_ROOT, workDir: WORK_DIR, url, config: CONFIG });
    await withClient(url, async (c) => {
      for (const leg of legs) await leg.prepare?.(c);
    });
    const runs = new Map(legs.map((l) => [l.id, []]));
    let sourceFull = true;
    for (let round = 0; round < opts.repeat; round++) {
      const order = legs.map((_, i) => legs[(i + round) % legs.length]);
      for (const leg of order) {
        await reset(url, !sourceFull);
        sourceFull = true;
        await checkpoint(opts.databaseUrl);
        await sleep(opts.settle);
        const [cmd, args] = leg.command();
        const result = await timed(cmd, args, {
          cwd: WORK_DIR,
          env: process.env,
          logBase: join(WORK_DIR, 'logs', `${leg.id}-r${round + 1}`),
        });
        if (leg.verb === 'move') sourceFull = false;
        const problems = await check(url, leg, n, result);
        runs.get(leg.id).push({ wall: result.wall, ok: problems.length === 0, problems });
        log(
          `[r${round + 1}] ${leg.label}: ${result.wall.toFixed(2)} s, ${problems.length ? `CHECK FAILED: ${problems.join('; ')}` : 'check ok'}`,
        );
      }
    }
    const header = [
      `# Copy benchmark${opts.quick ? ' (quick)' : ''}, ${new Date().toISOString()}`,
      '',
      `PostgreSQL ${server.version} (shared_buffers ${server.shared_buffers}); ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GB RAM; Node ${process.version}.`,
      `One tenant of the example application with ${opts.rows.toLocaleString('en-US')} rows (${Object.entries(n)
        .map(([t, k]) => `${t} ${k.toLocaleString('en-US')}`)
        .join(', ')}) copied, then moved, into an empty tenant.`,
      `Load average (5 min) ${loadBefore.toFixed(2)} at the start, ${loadavg()[1].toFixed(2)} at the end: other work on the machine slows every leg alike, but widens the spread of the runs.`,
      `${opts.repeat} round${opts.repeat === 1 ? '' : 's'}, legs interleaved in a rotating order; before every run the target is emptied, the source refilled if a move emptied it, both vacuumed, CHECKPOINT, ${opts.settle} s of rest.`,
      'Wall time is from spawning the command to its exit: for tenantctl, Node start-up, connecting, locks, planning, sequences and the operations log included; psql runs the bare statements in one transaction (`psql -1 -f`).',
      ...(opts.rows < 500_000
        ? [
            '',
            `At ${opts.rows.toLocaleString('en-US')} rows tenantctl's fixed cost (about 0.35 s: Node start-up, loading the CLI, connecting) is a large part of its time, so the ratio to psql is larger than at 1,000,000 rows.`,
          ]
        : []),
    ];
    const report = copyReport({ header, legs, runs, rows: opts.rows });
    process.stdout.write(`${report}\n`);
    if (opts.write) {
      mkdirSync(RESULTS_DIR, { recursive: true });
      const base = `${new Date().toISOString().slice(0, 10)}-copy${opts.quick ? '-quick' : ''}`;
      let file = opts.out ?? join(RESULTS_DIR, `${base}.md`);
      for (let i = 2; !opts.out && existsSync(file); i++) file = join(RESULTS_DIR, `${base}-${i}.md`);
      writeFileSync(file, `${report}\n`);
      log(`report written to ${file}`);
    }
    if ([...runs.values()].flat().some((r) => !r.ok)) process.exitCode = 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    if (!opts.keep) await dropDatabase(opts.databaseUrl, DATABASE).catch((err) => log(`could not drop ${DATABASE}: ${err.message}`));
  }
}

await main();
