// migrate lint [FILE...]: the lint's CLI adapter (files need no database), and the gate `migrate --lint` runs first.
import { relative } from 'node:path';
import type { Command } from 'commander';
import { fails, parseFailOn } from '../../verify/index.js';
import { InputError } from '../../errors.js';
import { lintFiles, lintPending, validateLintFiles } from '../../lint/index.js';
import { validateIds } from '../../runtime/lookup.js';
import type { LintFinding, LintResult, Tenantctl } from '../../index.js';
import { line, type Io } from '../io.js';
import type { Outcome } from '../outcome.js';
import { listOf } from '../parse.js';
import type { CommandEnv, Registrars } from '../run.js';

type Colours = CommandEnv['c'];

export function registerMigrateLintCommand(program: Command, { run, runOff: runOffline, io }: Registrars): void {
  const migrate = program.commands.find((c) => c.name() === 'migrate');
  if (!migrate) throw new Error('the migrate command must be registered before migrate lint');
  migrate
    .command('lint')
    .description('locking and rewrite hazards in pending migrations, or in the given files (then no database is needed)')
    .argument('[file...]', 'migration files (.js, .ts, .sql), linted as one run in the order given')
    .option('--fail-on <level>', 'the lowest level that fails the run: error or warn', 'error')
    .option('--tenant <id...>', 'without files: only what is pending for these tenants', listOf('--tenant'))
    .action((files: string[], opts, cmd: Command) => {
      if (files.length > 0) {
        const validate = () => {
          if (opts.tenant) throw new InputError('usage', '--tenant picks pending migrations; it cannot go with FILE arguments');
          validateLintFiles({ files, cwd: io.cwd, failOn: opts.failOn });
        };
        return runOffline(
          cmd,
          async (config, env) => lintOutcome(await lintFiles({ files, cwd: io.cwd, failOn: opts.failOn, config }), io, env.c),
          { validate },
        );
      }
      return run(cmd, async (tc, env) => lintOutcome(await lintPending(tc, { tenants: opts.tenant, failOn: opts.failOn }), io, env.c), {
        validate: () => {
          validateIds(opts.tenant);
          parseFailOn(opts.failOn);
        },
      });
    });
}

/** For `migrate --lint`: lints what is pending; an outcome that refuses to migrate, or undefined to go on. */
export async function lintBeforeMigrate(
  tc: Tenantctl,
  env: CommandEnv,
  options: { tenants?: string[]; failOn?: string },
): Promise<Outcome | undefined> {
  const r = await lintPending(tc, { tenants: options.tenants, failOn: options.failOn });
  const report = lintOutcome(r, env.io, env.c);
  if (r.ok) {
    if (!env.flags.quiet && r.findings.length > 0) line(env.io.stderr, `lint: ${counts(r)} below ${r.failOn}; migrating`);
    return undefined;
  }
  return {
    json: { refused: 'lint', tenants: [], summary: { migrated: 0, upToDate: 0, failed: 0, skipped: 0 }, lint: report.json },
    human: [
      ...report.human,
      env.c.red(`refusing to migrate: fix the findings at or above ${r.failOn} (or migrate without --lint); nothing was changed`),
    ],
    exitCode: 1,
  };
}

function lintOutcome(r: LintResult, io: Io, c: Colours): Outcome {
  const rel = (file: string) => {
    const r = relative(io.cwd, file);
    return r === '' || r.startsWith('..') ? file : r;
  };
  const findings = r.findings.map((f) => ({ ...f, file: rel(f.file) }));
  return {
    json: { ok: r.ok, failOn: r.failOn, migrations: r.migrations.map((m) => ({ ...m, file: rel(m.file) })), findings, summary: r.summary },
    human: humanReport(r, findings, c),
    exitCode: r.ok ? 0 : 1,
  };
}

function humanReport(r: LintResult, findings: LintFinding[], c: Colours): string[] {
  if (r.migrations.length === 0) return ['nothing pending to lint'];
  const lines: string[] = [];
  let file = '';
  for (const f of findings) {
    if (f.file !== file) {
      file = f.file;
      lines.push('', c.bold(file));
    }
    const level = f.level.padEnd(5);
    const where = f.line === null ? '' : `${f.line}: `;
    lines.push(`  ${fails(f.level, r.failOn) ? c.red(level) : c.yellow(level)} ${where}${f.message} ${c.dim(`[${f.rule}]`)}`);
    if (f.statement) lines.push(`        ${c.dim(f.statement)}`);
    lines.push(`        ${c.dim('fix:')} ${f.fix}`);
  }
  if (lines.length > 0) lines.push('');
  const failing = r.findings.filter((f) => fails(f.level, r.failOn)).length;
  lines.push(`linted ${r.migrations.length} migration${r.migrations.length === 1 ? '' : 's'}: ${counts(r)}`);
  if (failing === 0) lines.push(c.green(`ok: nothing at or above ${r.failOn}`));
  else lines.push(c.red(`FAILED: ${failing} finding${failing === 1 ? '' : 's'} at or above ${r.failOn}`));
  return lines;
}

function counts(r: LintResult): string {
  const s = r.summary;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${plural(s.error, 'error')}, ${plural(s.warn, 'warning')}`;
}
