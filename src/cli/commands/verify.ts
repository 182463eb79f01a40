import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  CHECK_IDS,
  fails,
  InputError,
  junitXml,
  validateVerifyOptions,
  verify,
  type VerifyOptions,
  type VerifyResult,
  type Violation,
} from '../../index.js';
import { listOf, positiveInt } from '../parse.js';
import type { CommandEnv, RunFn as Run } from '../run.js';
import { table } from '../table.js';

/** verify: isolation checks a pipeline can gate on. */
export function registerVerifyCommands(program: Command, run: Run): void {
  program
    .command('verify')
    .description(`isolation checks (${CHECK_IDS.join(', ')}); exit 1 when any finds a violation at or above --fail-on`)
    .option('--tenant <id...>', 'only these tenants', listOf('--tenant'))
    .option('--check <list...>', `only these checks, comma-separated: ${CHECK_IDS.join(', ')}`, listOf('--check'))
    .option('--junit <file>', 'also write JUnit XML (a test case per check and tenant, a failure per violation)')
    .option('--fail-on <level>', 'the lowest level that fails the run: error or warn', 'error')
    .option('--concurrency <n>', 'ownership probe statements at once (config "concurrency")', positiveInt('--concurrency'))
    .action((opts, cmd: Command) => {
      const options: VerifyOptions = { tenants: opts.tenant, checks: opts.check, failOn: opts.failOn };
      return run(
        cmd,
        async (tc, env) => {
          env.progress.start('verifying');
          const r = await verify(tc, options);
          if (opts.junit) writeJunit(resolve(env.io.cwd, opts.junit), r);
          return {
            json: {
              ok: r.ok,
              failOn: r.failOn,
              tenants: r.tenants,
              checks: r.checks,
              violations: r.violations,
              notes: r.notes,
              stats: r.stats,
            },
            human: humanReport(r, env),
            exitCode: r.ok ? 0 : 1,
          };
        },
        { validate: () => validateVerifyOptions(options), overrides: opts.concurrency ? { concurrency: opts.concurrency } : {} },
      );
    });
}

function writeJunit(file: string, r: VerifyResult): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, junitXml(r));
  } catch (err) {
    throw new InputError('junit_write_failed', `cannot write the JUnit file ${file}: ${(err as Error).message}; check --junit`);
  }
}

function humanReport(r: VerifyResult, env: CommandEnv): string[] {
  const { c } = env;
  const shown = r.violations.filter((v) => v.level !== 'info' || env.flags.verbose);
  const hiddenInfo = r.violations.length - shown.length;
  const lines = [
    `verified ${r.tenants.length} tenant${r.tenants.length === 1 ? '' : 's'}, ${r.checks.length} check${r.checks.length === 1 ? '' : 's'} (fail on ${r.failOn})`,
    '',
    ...table(
      ['check', 'level', 'result', 'violations', 'time'],
      r.checks.map((k) => [k.name, k.level, k.ok ? c.green('ok') : c.red('FAILED'), k.violations, `${k.seconds.toFixed(2)}s`]),
    ),
  ];
  for (const check of r.checks) {
    const mine = shown.filter((v) => v.check === check.name);
    if (mine.length === 0) continue;
    lines.push('', c.bold(`${check.name}: ${mine.length} violation${mine.length === 1 ? '' : 's'}`));
    const byTenant = new Map<string, Violation[]>();
    for (const v of mine) {
      const key = v.tenant === null ? '(shared schema / fleet)' : `tenant ${v.tenant}`;
      byTenant.set(key, [...(byTenant.get(key) ?? []), v]);
    }
    for (const [tenant, list] of byTenant) {
      lines.push(`  ${tenant}`);
      for (const v of list) lines.push(`    ${levelLabel(v, r, env)} ${v.object}: ${v.detail}`);
    }
    for (const fix of new Set(mine.map((v) => v.remediation))) lines.push(`  ${c.dim('fix:')} ${fix}`);
  }
  lines.push('');
  for (const check of r.checks) {
    const mine = r.notes.filter((n) => n.check === check.name);
    if (mine.length === 0) continue;
    if (env.flags.verbose) for (const n of mine) lines.push(c.dim(`note: ${n.check}: ${n.tenant ?? '(fleet)'} ${n.object}: ${n.detail}`));
    else
      lines.push(
        c.dim(
          `${check.name}: ${mine.length} note${mine.length === 1 ? '' : 's'} (e.g. ${mine[0]!.tenant} ${mine[0]!.object}: ${mine[0]!.detail}); --verbose lists them`,
        ),
      );
  }
  if (hiddenInfo > 0) lines.push(c.dim(`${hiddenInfo} info note${hiddenInfo === 1 ? '' : 's'} not shown; --verbose or --json lists them`));
  const failing = r.violations.filter((v) => fails(v.level, r.failOn));
  if (failing.length === 0) {
    const below = r.violations.length - hiddenInfo;
    lines.push(c.green(`ok: no violations at or above ${r.failOn}`) + (below > 0 ? ` (${below} below it)` : ''));
  } else {
    const where = [...new Set(failing.map((v) => v.tenant ?? 'the shared schema / fleet'))];
    const named = where.length > 5 ? `${where.slice(0, 5).join(', ')} and ${where.length - 5} more` : where.join(', ');
    lines.push(c.red(`FAILED: ${failing.length} violation${failing.length === 1 ? '' : 's'} at or above ${r.failOn} (${named})`));
  }
  return lines;
}

function levelLabel(v: Violation, r: VerifyResult, env: CommandEnv): string {
  const text = v.level.padEnd(5);
  if (!fails(v.level, r.failOn)) return env.c.yellow(text);
  return env.c.red(text);
}
