import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { CHECK_IDS, fails, junitXml, validateVerifyOptions, verify } from '../../verify/index.js';
import { InputError } from '../../errors.js';
import type { ExitCode, VerifyOptions, VerifyResult, Violation } from '../../index.js';
import { listOf, positiveInt } from '../parse.js';
import type { CommandEnv, Registrars } from '../run.js';
import { table } from '../table.js';

/** verify: isolation checks a pipeline can gate on. */
export function registerVerifyCommands(program: Command, { run }: Registrars): void {
  program
    .command('verify')
    .description(`isolation checks (${CHECK_IDS.join(', ')}); exit 1 when any finds a violation at or above --fail-on`)
    .option('--tenant <id...>', 'only these tenants', listOf('--tenant'))
    .option('--check <list...>', `only these checks, comma-separated: ${CHECK_IDS.join(', ')}`, listOf('--check'))
    .option('--junit <file>', 'also write JUnit XML (a test case per check and tenant, a failure per violation)')
    .option('--fail-on <level>', 'the lowest level that fails the run: error or warn', 'error')
    .option(
      '--concurrency <n>',
      'statements at once per server: one per lane of checks, the rest shared by ownership probes and drift digests (config "concurrency")',
      positiveInt('--concurrency'),
    )
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
              servers: r.servers,
              unreachable: r.unreachable,
              stats: r.stats,
            },
            human: humanReport(r, env),
            errors: r.servers.filter((s) => s.error !== undefined).map((s) => s.error!),
            exitCode: exitCode(r),
          };
        },
        { validate: () => validateVerifyOptions(options), overrides: opts.concurrency ? { concurrency: opts.concurrency } : {} },
      );
    });
}

/** 1 for a violation at or above --fail-on; else 3 when a server could not be read (its tenants were not verified); else 0. */
function exitCode(r: VerifyResult): ExitCode {
  if (r.violations.some((v) => fails(v.level, r.failOn))) return 1;
  if (r.servers.some((s) => s.error !== undefined)) return 3;
  return 0;
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
  // Servers are named once the fleet has more than the home server.
  const fleet = r.servers.length > 1;
  const checkedServers = r.servers.filter((s) => s.checked).length;
  const verified = r.tenants.filter((t) => t.status !== 'unreachable').length;
  const lines = [
    `verified ${verified} tenant${verified === 1 ? '' : 's'}${fleet ? ` on ${checkedServers} server${checkedServers === 1 ? '' : 's'}` : ''}, ${r.checks.length} check${r.checks.length === 1 ? '' : 's'} (fail on ${r.failOn})`,
    '',
    ...table(
      ['check', 'level', 'result', 'violations', 'time'],
      r.checks.map((k) => [k.name, k.level, k.ok ? c.green('ok') : c.red('FAILED'), k.violations, `${k.seconds.toFixed(2)}s`]),
    ),
  ];
  const on = (server: string) => (fleet ? ` (server ${server})` : '');
  for (const check of r.checks) {
    const mine = shown.filter((v) => v.check === check.name);
    if (mine.length === 0) continue;
    lines.push('', c.bold(`${check.name}: ${mine.length} violation${mine.length === 1 ? '' : 's'}`));
    const byTenant = new Map<string, Violation[]>();
    for (const v of mine) {
      const key = `${v.tenant === null ? '(shared schema / fleet)' : `tenant ${v.tenant}`}${on(v.server)}`;
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
    if (env.flags.verbose)
      for (const n of mine) lines.push(c.dim(`note: ${n.check}: ${n.tenant ?? '(fleet)'}${on(n.server)} ${n.object}: ${n.detail}`));
    else
      lines.push(
        c.dim(
          `${check.name}: ${mine.length} note${mine.length === 1 ? '' : 's'} (e.g. ${mine[0]!.tenant} ${mine[0]!.object}: ${mine[0]!.detail}); --verbose lists them`,
        ),
      );
  }
  if (hiddenInfo > 0) lines.push(c.dim(`${hiddenInfo} info note${hiddenInfo === 1 ? '' : 's'} not shown; --verbose or --json lists them`));
  for (const s of r.servers.filter((x) => x.error !== undefined)) {
    const ids = r.unreachable.filter((u) => u.server === s.server).map((u) => u.id);
    lines.push(
      c.red(`NOT VERIFIED: ${s.error}`) + (ids.length > 0 ? `: tenant${ids.length === 1 ? '' : 's'} ${ids.join(', ')} not verified` : ''),
    );
  }
  const failing = r.violations.filter((v) => fails(v.level, r.failOn));
  if (failing.length === 0 && r.servers.some((x) => x.error !== undefined)) {
    lines.push(c.yellow(`no violations at or above ${r.failOn} on the servers read; rerun once every server answers`));
  } else if (failing.length === 0) {
    const below = r.violations.length - hiddenInfo;
    lines.push(c.green(`ok: no violations at or above ${r.failOn}`) + (below > 0 ? ` (${below} below it)` : ''));
  } else {
    const where = [...new Set(failing.map((v) => (v.tenant ?? 'the shared schema / fleet') + on(v.server)))];
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
