#!/usr/bin/env node
// The migration benchmark: tenantctl against the psql floor and node-pg-migrate, side by side, on
// one server, the workload of lib/workload-migrations.mjs. See bench/README.md.
//
//   node bench/migrate.mjs --quick --database-url postgresql://postgres@127.0.0.1:5432/postgres
import { cpus, loadavg, totalmem } from 'node:os';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions, USAGE, UsageError } from './lib/args.mjs';
import { checkpoint, createDatabase, dropDatabase, serverInfo } from './lib/pg.mjs';
import { haveGnuTime, sleep, tail, timed } from './lib/measure.mjs';
import { expectedCounts, generateWorkload } from './lib/workload.mjs';
import { floor, npmCli, prepareNpmTemplate, runner4, runnerSeq } from './lib/legs/npm.mjs';
import { prepareTenantctlTemplate, tenantctl, tenantctlBin } from './lib/legs/tenantctl.mjs';
import { comparison, median, scenarioTable, summarize } from './lib/report.mjs';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK_DIR = join(REPO_ROOT, 'bench', '.work');
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
const LEGS = new Map([floor, tenantctl, npmCli, runnerSeq, runner4].map((leg) => [leg.id, leg]));
const PREPARE = { npm: prepareNpmTemplate, tenantctl: prepareTenantctlTemplate };

const log = (msg) => process.stderr.write(`${msg}\n`);
const createdDatabases = new Set();

/** The three scenarios; scenario 3 runs once more at N/10 for tenantctl's round-trip count. */
function scenarioPlan(opts, migrationCount) {
  const plan = [];
  const tools = (ids) => opts.tools.filter((t) => ids.includes(t));
  const all = [...LEGS.keys()];
  if (opts.scenarios.includes(1)) {
    plan.push({
      key: '1',
      title: `fresh, N=${opts.n[1]}, all ${migrationCount} migrations pending`,
      n: opts.n[1],
      from: 0,
      to: migrationCount,
      tools: tools(all),
    });
  }
  if (opts.scenarios.includes(2)) {
    plan.push({
      key: '2',
      title: `one pending, N=${opts.n[2]} at migration ${migrationCount - 1}, the ${migrationCount}th pending`,
      n: opts.n[2],
      from: migrationCount - 1,
      to: migrationCount,
      tools: tools(all),
    });
  }
  if (opts.scenarios.includes(3)) {
    plan.push({
      key: '3',
      title: `nothing pending, N=${opts.n[3]} at the head of the first 3 migrations`,
      n: opts.n[3],
      from: 3,
      to: 3,
      tools: tools(all),
    });
    const small = Math.max(1, Math.floor(opts.n[3] / 10));
    if (opts.tools.includes('tenantctl')) {
      plan.push({
        key: '3-small',
        title: `nothing pending, N/10=${small} (tenantctl only, for its round-trip count)`,
        n: small,
        from: 3,
        to: 3,
        tools: ['tenantctl'],
      });
    }
  }
  return plan;
}

const dbName = (kind, sc) => `bench_${kind.replaceAll('-', '_')}_s${sc.key.replaceAll('-', '_')}`;

async function createDb(ctx, name, template) {
  createdDatabases.add(name);
  return createDatabase(ctx.opts.databaseUrl, name, { template, serverVersionNum: ctx.server.num });
}

async function dropDb(ctx, name) {
  await dropDatabase(ctx.opts.databaseUrl, name);
  createdDatabases.delete(name);
}

/** Untimed: one template database per family of tools (npm, tenantctl), at the scenario's start. */
async function prepareTemplates(ctx, sc) {
  const templates = new Map();
  for (const family of new Set(sc.tools.map((t) => LEGS.get(t).family))) {
    const name = dbName(`tpl_${family}`, sc);
    const started = Date.now();
    log(`[s${sc.key}] setup: ${family} template ${name}, ${sc.n} tenants at migration ${sc.from}`);
    try {
      const url = await createDb(ctx, name);
      await PREPARE[family](ctx, sc, url);
      templates.set(family, { name });
      log(`[s${sc.key}] setup: ${family} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (e) {
      templates.set(family, { name, error: e.message });
      log(`[s${sc.key}] setup: ${family} FAILED: ${e.message}`);
    }
  }
  return templates;
}

/** One timed run of one tool on a fresh copy of its template, then its check. */
async function runOnce(ctx, sc, leg, template, round) {
  const label = leg.label(sc, ctx);
  const tenantsRun = leg.tenantsToRun?.(ctx, sc) ?? sc.n;
  if (template.error) return { label, wall: null, rssKb: null, tenantsRun, problems: [`setup failed: ${template.error}`] };

  const db = dbName(leg.id, sc);
  const url = await createDb(ctx, db, template.name);
  try {
    const { cmd, args, env } = leg.command(ctx, sc, url);
    await checkpoint(ctx.opts.databaseUrl);
    await sleep(ctx.opts.settle);
    const logBase = join(ctx.logDir, `s${sc.key}-${leg.id}-r${round}`);
    const outcome = await timed(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, logBase });
    outcome.rssKb ??= leg.rssFromStdout?.(tail(outcome.stdoutFile, 10000)) ?? null;
    const problems = outcome.code === 0 ? [] : [`exit code ${outcome.code}: ${tail(outcome.stderrFile, 600).trim()}`];
    try {
      problems.push(...(await leg.check(ctx, sc, url, outcome)));
    } catch (e) {
      problems.push(`check itself failed: ${e.message}`);
    }
    return { label, wall: outcome.wall, rssKb: outcome.rssKb, tenantsRun, roundTrips: outcome.roundTrips, problems };
  } finally {
    await dropDb(ctx, db);
  }
}

/** Rounds of all tools interleaved, the order rotated each round; templates dropped at the end. */
async function runScenario(ctx, sc) {
  const templates = await prepareTemplates(ctx, sc);
  const runs = new Map(sc.tools.map((t) => [t, []]));
  try {
    for (let round = 1; round <= ctx.opts.repeat; round++) {
      const order = sc.tools.map((_, i) => sc.tools[(i + round - 1) % sc.tools.length]);
      for (const tool of order) {
        const leg = LEGS.get(tool);
        const result = await runOnce(ctx, sc, leg, templates.get(leg.family), round);
        runs.get(tool).push(result);
        const rt = result.roundTrips != null ? `, ${result.roundTrips} round trips` : '';
        const wall = result.wall == null ? 'not run' : `${result.wall.toFixed(2)} s`;
        log(`[s${sc.key} r${round}] ${tool}: ${wall}${rt}, ${result.problems.length ? 'CHECK FAILED' : 'check ok'}`);
        for (const p of result.problems) log(`  !!! ${tool}: ${p}`);
      }
    }
  } finally {
    for (const { name } of templates.values()) await dropDb(ctx, name);
  }
  return summarize(sc, runs);
}

/** Fixed cost of starting a Node process, bare and as tenantctl (median of 3), for reading small-N rows. */
async function startupCosts(ctx) {
  const probes = [['node', process.execPath, ['-e', '']]];
  if (ctx.opts.tools.includes('tenantctl') && existsSync(tenantctlBin(REPO_ROOT)))
    probes.push(['tenantctl --version', process.execPath, [tenantctlBin(REPO_ROOT), '--version']]);
  const costs = [];
  for (const [name, cmd, args] of probes) {
    const walls = [];
    for (let i = 0; i < 3; i++) walls.push((await timed(cmd, args, { cwd: REPO_ROOT, logBase: join(ctx.logDir, `startup-${i}`) })).wall);
    costs.push(`${name} ${median(walls).toFixed(2)} s`);
  }
  return costs.join(', ');
}

function header(ctx, plan) {
  const { opts, server } = ctx;
  return [
    `# Migration benchmark${opts.quick ? ' (quick)' : ''}, ${new Date().toISOString()}`,
    '',
    `- machine: ${cpus().length} cores (${cpus()[0]?.model?.trim()}), ${(totalmem() / 2 ** 30).toFixed(1)} GB RAM, load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at start`,
    `- server: PostgreSQL ${server.version}, shared_buffers ${server.shared_buffers}, max_connections ${server.max_connections}; client Node ${process.version}`,
    `- tenants: ${plan.map((sc) => `s${sc.key} N=${sc.n}`).join(', ')}; rounds ${opts.repeat} (median reported); settle ${opts.settle} s + CHECKPOINT before every timed run; tenantctl concurrency ${opts.concurrency}`,
    `- peak RSS: ${haveGnuTime ? 'GNU time %M of the timed command (largest process in its tree; client side only, not the server backends)' : 'runner() children report their own; n/a for the others (no /usr/bin/time)'}`,
    `- process start (median of 3): ${ctx.startup}; at small N this fixed cost dominates every ratio`,
    '- vs floor: wall / floor wall. vs best alt: wall / the fastest node-pg-migrate alternative that passed its check.',
  ].join('\n');
}

function resultFile(opts) {
  if (opts.out) return opts.out;
  const base = `${new Date().toISOString().slice(0, 10)}-migrate${opts.quick ? '-quick' : ''}`;
  let file = join(RESULTS_DIR, `${base}.md`);
  for (let i = 2; existsSync(file); i++) file = join(RESULTS_DIR, `${base}-${i}.md`);
  return file;
}

async function dropCreatedDatabases(opts) {
  for (const name of createdDatabases) {
    try {
      await dropDatabase(opts.databaseUrl, name);
    } catch (e) {
      log(`could not drop ${name}: ${e.message}`);
    }
  }
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) return console.log(USAGE);
  const server = await serverInfo(opts.databaseUrl).catch((e) => {
    throw new UsageError(`cannot connect to ${opts.databaseUrl}: ${e.message}`);
  });
  process.once('SIGINT', async () => {
    log('interrupted: dropping the benchmark databases');
    await dropCreatedDatabases(opts);
    process.exit(130);
  });

  rmSync(WORK_DIR, { recursive: true, force: true });
  const logDir = join(WORK_DIR, 'logs');
  mkdirSync(logDir, { recursive: true });
  const wl = generateWorkload(WORK_DIR);
  const plan = scenarioPlan(opts, wl.files.length);
  const ctx = { opts, server, wl, repoRoot: REPO_ROOT, workDir: WORK_DIR, logDir, expected: null };
  ctx.startup = await startupCosts(ctx);
  ctx.expected = await expectedCounts(wl, opts.databaseUrl, [...new Set(plan.flatMap((sc) => [sc.from, sc.to]))]);

  const summaries = new Map();
  const sections = [header(ctx, plan)];
  try {
    for (const sc of plan) {
      const summary = await runScenario(ctx, sc);
      summaries.set(sc.key, { ...summary, sc });
      sections.push(scenarioTable(sc, summary, opts.repeat));
    }
  } finally {
    await dropCreatedDatabases(opts);
  }
  sections.push(comparison(summaries, opts), notes(plan));
  const report = `${sections.filter(Boolean).join('\n\n')}\n`;
  console.log(report);

  if (opts.write) {
    const file = resultFile(opts);
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(file, report);
    log(`written to ${file}`);
  }
  const failed = [...summaries.values()].some((s) => [...s.rows.values()].some((r) => !r.ok));
  if (failed) log(`!!! at least one run FAILED its check; logs kept in ${WORK_DIR}/logs`);
  else if (!opts.keepWorkdir) rmSync(WORK_DIR, { recursive: true, force: true });
  process.exitCode = failed ? 1 : 0;
}

function notes(plan) {
  const lines = ['### Notes', ''];
  lines.push(
    "- Every tool runs byte-identical DDL (bench/lib/workload-migrations.mjs); each tool gets its own database per scenario, copied from an untimed setup (psql for the alternatives, with node-pg-migrate's `pgmigrations` rows written; `tenantctl init` + `tenant create` with the first K migrations for tenantctl).",
  );
  lines.push(
    '- runner() legs: `runner({ databaseUrl, dir, schema, createSchema: true, migrationsTable: "pgmigrations", direction: "up", singleTransaction: true })` per tenant; the sequential one takes node-pg-migrate\'s advisory lock, the 4-at-a-time one passes `noLock: true`.',
  );
  lines.push(
    '- node-pg-migrate CLI: `node-pg-migrate up -m DIR --schema t_NNNNN --create-schema --migrations-table pgmigrations -d DATABASE_URL` per tenant in a bash loop, output to a file.',
  );
  if (plan.some((sc) => sc.from > 0 && sc.from < sc.to))
    lines.push(
      "- Scenario 2 floor: just the pending migration's DDL per tenant in one psql session, one transaction per tenant, no bookkeeping.",
    );
  if (plan.some((sc) => sc.from === sc.to))
    lines.push(
      '- Scenario 3 floor: there is nothing to migrate, so the floor is one psql session sending a trivial `SELECT 1` per tenant.',
    );
  return lines.join('\n');
}

main().catch((e) => {
  if (e instanceof UsageError) {
    log(`migrate.mjs: ${e.message}`);
    process.exitCode = 2;
  } else {
    log(e.stack);
    process.exitCode = 4;
  }
});
