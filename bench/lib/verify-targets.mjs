// The verify benchmark's target phases: verify on a fresh catalog against the same after ANALYZE,
// and the fleet grown to --scale-tenants (catalog queries, peak memory). Figures and ratios, no verdicts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpoint } from './pg.mjs';
import { sleep, timed } from './measure.mjs';
import { analyzeCatalogs, catalogsAnalyzed, createFleet } from './verify-setup.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One `tenantctl verify --json` run, timed: wall, peak RSS, and the JSON document. */
async function verifyRun(ctx, name, extra = []) {
  const { repo, url, work, opts } = ctx;
  await checkpoint(opts.databaseUrl);
  await sleep(opts.settle);
  const outcome = await timed(process.execPath, [join(repo, 'bin', 'tenantctl.js'), '--database-url', url, 'verify', '--json', ...extra], {
    cwd: repo,
    env: { ...process.env, NO_COLOR: '1' },
    logBase: join(work, name),
  });
  const doc = JSON.parse(readFileSync(outcome.stdoutFile, 'utf8'));
  return { wall: outcome.wall, rssKb: outcome.rssKb, code: outcome.code, doc };
}

function summarize(runs) {
  const perCheck = {};
  for (const c of runs[0].doc.checks) perCheck[c.name] = median(runs.map((r) => r.doc.checks.find((x) => x.name === c.name).seconds));
  return {
    wall: median(runs.map((r) => r.wall)),
    walls: runs.map((r) => r.wall),
    inChecks: median(runs.map((r) => r.doc.checks.reduce((n, c) => n + c.seconds, 0))),
    perCheck,
    roundTrips: Object.fromEntries(runs.at(-1).doc.checks.map((c) => [c.name, c.roundTrips])),
    violations: runs.at(-1).doc.violations.length,
    rssKb: Math.max(...runs.map((r) => r.rssKb ?? 0)) || null,
  };
}

/**
 * Right after the tenants are created, before anything analyzes the catalogs: `verify` (every
 * check) `repeat` times, then ANALYZE of the catalogs and `repeat` times again.
 */
export async function freshCatalogPhase(ctx, log) {
  const before = await catalogsAnalyzed(ctx.url);
  const fresh = [];
  for (let i = 0; i < ctx.opts.repeat; i++) {
    fresh.push(await verifyRun(ctx, `fresh-${i}`));
    log(`[fresh catalog r${i + 1}] verify: ${fresh.at(-1).wall.toFixed(3)} s`);
  }
  await analyzeCatalogs(ctx.url);
  const analyzed = [];
  for (let i = 0; i < ctx.opts.repeat; i++) {
    analyzed.push(await verifyRun(ctx, `analyzed-${i}`));
    log(`[analyzed catalog r${i + 1}] verify: ${analyzed.at(-1).wall.toFixed(3)} s`);
  }
  return { analyzedBefore: before, fresh: summarize(fresh), analyzed: summarize(analyzed) };
}

/** The fleet grown from n to `to` tenants (one row each is not needed: empty tables cost the catalog the same), `verify` once more. */
export async function scalePhase(ctx, n, to, log) {
  log(`scale: growing the fleet from ${n} to ${to} tenants`);
  await createFleet(ctx.repo, ctx.url, to, log, n + 1);
  const runs = [];
  for (let i = 0; i < Math.min(ctx.opts.repeat, 2); i++) {
    runs.push(await verifyRun(ctx, `scale-${i}`));
    log(`[scale ${to} r${i + 1}] verify: ${runs.at(-1).wall.toFixed(3)} s, peak RSS ${runs.at(-1).rssKb} KB`);
  }
  // A run that failed (its JSON holds an error, no checks) is a result too: reported, not a crash that loses the report.
  const failed = runs.find((r) => !Array.isArray(r.doc.checks));
  if (failed)
    return {
      tenants: to,
      error: `exit ${failed.code}: ${failed.doc.error?.message ?? 'no checks in the JSON'}`,
      wall: failed.wall,
      rssKb: failed.rssKb,
    };
  return { tenants: to, ...summarize(runs) };
}

const f3 = (x) => x.toFixed(3);
const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : 'n/a');

/** The report's section on the four targets: what was measured, as figures and ratios. */
export function targetSection({ opts, fresh, legs, perCheckBefore, scale }) {
  const lines = ['### The four targets: figures', ''];
  const catalogChecks = ['references', 'privileges', 'rls', 'drift', 'registry'];
  lines.push(
    `1. Fresh catalog (statistics inherited from template1; analyzed before the runs: ${fresh.analyzedBefore.length ? fresh.analyzedBefore.join(', ') : 'none of pg_depend, pg_class, pg_proc, pg_type'}) against the same \`verify\` after \`ANALYZE\` of ${'the catalogs'}, ${opts.n} tenants (tables still empty), ${opts.repeat} runs each, medians:`,
    '',
    '   | | wall s | in the checks s | ' + catalogChecks.join(' s | ') + ' s |',
    '   | --- | --- | --- | ' + catalogChecks.map(() => '---').join(' | ') + ' |',
    `   | fresh | ${f3(fresh.fresh.wall)} | ${f3(fresh.fresh.inChecks)} | ${catalogChecks.map((c) => f3(fresh.fresh.perCheck[c])).join(' | ')} |`,
    `   | after ANALYZE | ${f3(fresh.analyzed.wall)} | ${f3(fresh.analyzed.inChecks)} | ${catalogChecks.map((c) => f3(fresh.analyzed.perCheck[c])).join(' | ')} |`,
    `   | fresh / analyzed | ${ratio(fresh.fresh.wall, fresh.analyzed.wall)} | ${ratio(fresh.fresh.inChecks, fresh.analyzed.inChecks)} | ${catalogChecks.map((c) => ratio(fresh.fresh.perCheck[c], fresh.analyzed.perCheck[c])).join(' | ')} |`,
    '',
  );
  const big = legs.get('ownership-big');
  const small = legs.get('ownership-small');
  lines.push(
    `2. Ownership against rows: \`verify --check ownership --tenant big\` (${opts.bigRows.toLocaleString('en-US')} rows) against \`--tenant t00001\` (${opts.rows.toLocaleString('en-US')} rows): wall ${f3(big.wall)} s against ${f3(small.wall)} s (ratio ${ratio(big.wall, small.wall)}); in the check ${f3(big.checks)} s against ${f3(small.checks)} s (ratio ${ratio(big.checks, small.checks)}). Target: within 1.5x for 2,000,000 against 2,000 rows.`,
    '',
  );
  const full = legs.get('verify');
  const scan = legs.get('scan');
  lines.push(
    `3. All checks against the plain scan, ${opts.n} tenants: \`verify\` ${f3(full.wall)} s wall (${f3(full.checks)} s in the checks, summed over lanes that run side by side), the scan ${f3(scan.wall)} s: ratio ${ratio(full.wall, scan.wall)} (in the checks ${ratio(full.checks, scan.wall)}). Target: 1.0 or less at 1,000 tenants.`,
    '',
  );
  if (scale?.error) {
    lines.push(
      `4. Fleet grown from ${opts.n} to ${scale.tenants} tenants: \`verify\` failed (${scale.error}) after ${f3(scale.wall)} s; peak RSS ${scale.rssKb ? `${(scale.rssKb / 1024).toFixed(0)} MB` : 'not measured'}.`,
    );
  } else if (scale) {
    const names = Object.keys(scale.roundTrips);
    lines.push(
      `4. Fleet grown from ${opts.n} to ${scale.tenants} tenants (the planted violations still there): statements per check, dirty round at ${opts.n} -> grown fleet, ${names.map((c) => `${c} ${perCheckBefore[c] ?? '?'} -> ${scale.roundTrips[c]}`).join(', ')} (ownership is not a catalog check: one catalog query, then a probe statement per 50 tables); peak RSS of the verify process ${scale.rssKb ? `${(scale.rssKb / 1024).toFixed(0)} MB` : 'not measured (no GNU time)'}; wall ${f3(scale.wall)} s, ${f3(scale.inChecks)} s in the checks, ${scale.violations} violations. Target: at 10,000 tenants the same number of catalog queries, peak memory under 300 MB.`,
    );
  } else {
    lines.push('4. Not run (`--scale-tenants` not given).');
  }
  return lines;
}
