// The psql floor and the node-pg-migrate alternatives. They share one setup ("npm" family):
// schemas t_00001.. at the scenario's starting migration, each with node-pg-migrate's pgmigrations.
import { fileURLToPath } from 'node:url';
import { checkPgmigrations, checkSchemas } from '../check.mjs';
import { psqlFiles } from '../measure.mjs';
import {
  migrationsDir,
  npmSchema,
  NPM_SCHEMA_RE,
  writeCliLoopScript,
  writeFloorDeltaScript,
  writeFloorFreshScript,
  writeFloorNoopScript,
  writeNpmSetupScripts,
} from '../workload.mjs';

const RUNNER_CHILD = fileURLToPath(new URL('../runner-child.mjs', import.meta.url));

/** Untimed: bring the template database to the scenario's start (nothing to do when it is 0). */
export async function prepareNpmTemplate(ctx, sc, templateUrl) {
  if (sc.from === 0) return;
  const scripts = writeNpmSetupScripts(ctx.wl, sc.n, sc.from, ctx.opts.setupJobs);
  await psqlFiles(templateUrl, scripts);
}

/** Schemas 1..done at `to`, the rest (if the scenario started with them) at `from`. */
async function checkNpmSchemas(ctx, sc, url, done = sc.n) {
  return checkSchemas(url, {
    pattern: NPM_SCHEMA_RE,
    nameOf: npmSchema,
    n: sc.from === 0 ? done : sc.n,
    expectedFor: (i) => ctx.expected.get(i <= done ? sc.to : sc.from),
  });
}

async function checkNpm(ctx, sc, url, done = sc.n) {
  const problems = await checkNpmSchemas(ctx, sc, url, done);
  problems.push(
    ...(await checkPgmigrations(url, {
      nameOf: npmSchema,
      n: done,
      namesFor: () => ctx.wl.names.slice(0, sc.to),
    })),
  );
  return problems;
}

const psql = (url, file) => ({ cmd: 'psql', args: [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', file] });

export const floor = {
  id: 'floor',
  family: 'npm',
  label(sc) {
    if (sc.from === 0) return 'floor: psql, one session, one transaction per tenant';
    if (sc.from < sc.to)
      return `floor: psql, one session, migration${sc.to - sc.from > 1 ? 's' : ''} ${sc.from + 1}${sc.to - sc.from > 1 ? `-${sc.to}` : ''} only, one transaction per tenant`;
    return 'floor: nothing to do; psql `SELECT 1` per tenant, one session';
  },
  command(ctx, sc, url) {
    if (sc.from === 0 && sc.to === ctx.wl.files.length) return psql(url, writeFloorFreshScript(ctx.wl, sc.n));
    if (sc.from < sc.to) return psql(url, writeFloorDeltaScript(ctx.wl, sc.n, sc.from, sc.to));
    return psql(url, writeFloorNoopScript(ctx.wl, sc.n));
  },
  check: (ctx, sc, url) => checkNpmSchemas(ctx, sc, url),
};

export const npmCli = {
  id: 'npm-cli',
  family: 'npm',
  label: () => 'node-pg-migrate CLI once per tenant, shell loop',
  /** Runs at most --cli-loop-max tenants; the report extrapolates the wall time to N. */
  tenantsToRun: (ctx, sc) => (ctx.opts.cliLoopMax > 0 ? Math.min(sc.n, ctx.opts.cliLoopMax) : sc.n),
  command(ctx, sc, url) {
    const script = writeCliLoopScript(ctx.wl, ctx.repoRoot, migrationsDir(ctx.wl, sc.to), this.tenantsToRun(ctx, sc));
    return { cmd: 'bash', args: [script], env: { DATABASE_URL: url } };
  },
  check(ctx, sc, url) {
    return checkNpm(ctx, sc, url, this.tenantsToRun(ctx, sc));
  },
};

function runnerLeg(id, concurrency, noLock, label) {
  return {
    id,
    family: 'npm',
    label: () => label,
    command(ctx, sc, url) {
      const args = [
        RUNNER_CHILD,
        '--url',
        url,
        '--dir',
        migrationsDir(ctx.wl, sc.to),
        '--n',
        String(sc.n),
        '--concurrency',
        String(concurrency),
      ];
      if (noLock) args.push('--no-lock');
      return { cmd: process.execPath, args };
    },
    check: (ctx, sc, url) => checkNpm(ctx, sc, url),
    /** Without GNU time the child reports its own peak RSS. */
    rssFromStdout(stdout) {
      try {
        return JSON.parse(stdout.trim().split('\n').at(-1)).maxRssKb ?? null;
      } catch {
        return null;
      }
    },
  };
}

export const runnerSeq = runnerLeg('runner-seq', 1, false, 'node-pg-migrate runner() per tenant, one process, sequential');
export const runner4 = runnerLeg('runner-4', 4, true, 'node-pg-migrate runner() per tenant, one process, 4 at a time, noLock');
