// tenantctl through its CLI (node bin/tenantctl.js), as a user runs it.
// Setup: `init`, then `tenant create` with a folder holding only the first `from` migrations;
// timed: `tenant create` of all N tenants (scenario 1) or `migrate` with the folder of `to` migrations.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkSchemas } from '../check.mjs';
import { run } from '../measure.mjs';
import { migrationsDir, tenantId, TENANTCTL_PREFIX, TENANTCTL_SCHEMA_RE } from '../workload.mjs';

const CREATE_BATCH = 1000;

export const tenantctlBin = (repoRoot) => join(repoRoot, 'bin', 'tenantctl.js');

function writeConfig(ctx, k) {
  const file = join(ctx.workDir, `tenantctl-first-${k}.config.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        tenantMigrations: migrationsDir(ctx.wl, k),
        sharedMigrations: ctx.wl.emptyShared,
        roles: false,
        schemaPrefix: TENANTCTL_PREFIX,
        concurrency: ctx.opts.concurrency,
      },
      null,
      2,
    )}\n`,
  );
  return file;
}

const cliArgs = (ctx, url, config, rest) => [tenantctlBin(ctx.repoRoot), '--database-url', url, '--config', config, ...rest];
const ids = (from, to) => Array.from({ length: to - from + 1 }, (_, j) => tenantId(from + j));

/** Runs an untimed tenantctl command and returns its parsed --json document. */
async function tenantctlJson(ctx, url, config, rest) {
  const stdout = await run(process.execPath, cliArgs(ctx, url, config, rest), {
    cwd: ctx.repoRoot,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return JSON.parse(stdout);
}

/** Untimed: control schema, and for scenarios 2 and 3 all tenants created at migration `from`. */
export async function prepareTenantctlTemplate(ctx, sc, templateUrl) {
  if (!existsSync(tenantctlBin(ctx.repoRoot))) throw new Error(`${tenantctlBin(ctx.repoRoot)} not found: run npm run build first`);
  const config = writeConfig(ctx, sc.from === 0 ? sc.to : sc.from);
  await tenantctlJson(ctx, templateUrl, config, ['init', '--json']);
  if (sc.from === 0) return;
  for (let first = 1; first <= sc.n; first += CREATE_BATCH) {
    const last = Math.min(sc.n, first + CREATE_BATCH - 1);
    await tenantctlJson(ctx, templateUrl, config, ['tenant', 'create', ...ids(first, last), '--json']);
  }
}

export const tenantctl = {
  id: 'tenantctl',
  family: 'tenantctl',
  label(sc, ctx) {
    return sc.from === 0 ? 'tenantctl tenant create (all N ids, one command)' : `tenantctl migrate --concurrency ${ctx.opts.concurrency}`;
  },
  command(ctx, sc, url) {
    const config = writeConfig(ctx, sc.to);
    const rest =
      sc.from === 0
        ? ['tenant', 'create', ...ids(1, sc.n), '--json']
        : ['migrate', '--concurrency', String(ctx.opts.concurrency), '--json'];
    return { cmd: process.execPath, args: cliArgs(ctx, url, config, rest), env: { NO_COLOR: '1' } };
  },
  /** Reads the JSON on stdout, the schemas in the database, and `migrate status`. */
  async check(ctx, sc, url, outcome) {
    const problems = [];
    const doc = parseDoc(outcome.stdoutFile, problems);
    outcome.roundTrips = doc?.stats?.roundTrips ?? null;
    if (doc && sc.from > 0) problems.push(...checkMigrateDoc(sc, doc));
    problems.push(
      ...(await checkSchemas(url, {
        pattern: TENANTCTL_SCHEMA_RE,
        nameOf: (i) => `${TENANTCTL_PREFIX}${tenantId(i)}`,
        n: sc.n,
        expectedFor: () => ctx.expected.get(sc.to),
      })),
    );
    problems.push(...(await checkStatus(ctx, sc, url)));
    return problems;
  },
};

function parseDoc(file, problems) {
  const text = readFileSync(file, 'utf8');
  try {
    const doc = JSON.parse(text);
    if (doc.version !== 1) problems.push(`JSON version is ${doc.version}, expected 1`);
    if (doc.error) problems.push(`error ${doc.error.code}: ${doc.error.message}`);
    return doc;
  } catch (e) {
    problems.push(`stdout is not one JSON document (${e.message}): ${text.slice(0, 200)}`);
    return null;
  }
}

function checkMigrateDoc(sc, doc) {
  const problems = [];
  const s = doc.summary ?? {};
  const want = sc.from < sc.to ? { migrated: sc.n, upToDate: 0 } : { migrated: 0, upToDate: sc.n };
  if (s.migrated !== want.migrated || s.upToDate !== want.upToDate || s.failed !== 0) {
    problems.push(`summary ${JSON.stringify(s)}, expected migrated ${want.migrated}, upToDate ${want.upToDate}, failed 0`);
  }
  if (doc.tenants?.length !== sc.n) problems.push(`${doc.tenants?.length} tenants in the JSON, expected ${sc.n}`);
  if (typeof doc.stats?.roundTrips !== 'number') problems.push('no stats.roundTrips in the JSON');
  return problems;
}

/** `migrate status --json`, untimed: every tenant, nothing pending, `to` migrations applied. */
async function checkStatus(ctx, sc, url) {
  let doc;
  try {
    doc = await tenantctlJson(ctx, url, writeConfig(ctx, sc.to), ['migrate', 'status', '--json']);
  } catch (e) {
    return [`migrate status failed: ${e.message.slice(0, 300)}`];
  }
  const tenants = doc.tenants ?? [];
  const problems = [];
  if (tenants.length !== sc.n) problems.push(`migrate status lists ${tenants.length} tenants, expected ${sc.n}`);
  const applied = (t) => (Array.isArray(t.applied) ? t.applied.length : t.applied);
  const off = tenants.filter((t) => (t.pending?.length ?? 0) !== 0 || applied(t) !== sc.to);
  if (off.length)
    problems.push(`migrate status: ${off.length} tenants not at ${sc.to} applied/0 pending, e.g. ${JSON.stringify(off[0]).slice(0, 200)}`);
  return problems;
}
