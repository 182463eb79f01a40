import type { Command } from 'commander';
import { execAsTenant, validateExecOptions } from '../../tenants/exec.js';
import { execFleet, validateExecFleetOptions } from '../../tenants/exec-fleet.js';
import { init } from '../../migrate/init.js';
import { InputError } from '../../errors.js';
import type { ExecFleetOptions } from '../../index.js';
import { fleetExitCode } from '../outcome.js';
import { listOf, positiveInt } from '../parse.js';
import type { Registrars } from '../run.js';
import { table } from '../table.js';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function registerOtherCommands(program: Command, { run }: Registrars): void {
  program
    .command('init')
    .description('create or upgrade the control schema and apply pending shared migrations (idempotent)')
    .action((_opts, cmd: Command) =>
      run(cmd, async (tc) => {
        const r = await init(tc);
        const v = r.controlVersion;
        return {
          json: {
            controlSchema: r.controlSchema,
            controlVersion: v.to,
            upgradedFrom: v.from,
            shared: r.shared,
            ...(r.citus ? { citus: r.citus } : {}),
          },
          human: [
            v.from === v.to
              ? `control schema ${r.controlSchema} is current (version ${v.to})`
              : `control schema ${r.controlSchema} ${v.from === 0 ? 'created' : `upgraded from version ${v.from}`} (version ${v.to})`,
            r.shared.applied.length ? `shared migrations applied: ${r.shared.applied.join(', ')}` : 'shared migrations: none pending',
            ...(r.citus ? [`Citus ${r.citus.version} coordinator: tenants are distributed schemas`] : []),
            ...(r.shared.referenceTables?.length ? [`reference tables made: ${r.shared.referenceTables.join(', ')}`] : []),
          ],
          exitCode: 0,
        };
      }),
    );

  program
    .command('exec')
    .description(
      'run SQL as a tenant (its search_path, its role, its key setting) in one transaction; with --all or several --tenant, one transaction per tenant',
    )
    .option('--tenant <id...>', 'tenant id (repeatable, or comma-separated)', listOf('--tenant'))
    .option('--all', 'every active tenant')
    .option('-c, --command <sql>', 'SQL to run')
    .option('-f, --file <file>', 'file of SQL to run')
    .option('--concurrency <n>', 'tenants at once (config "concurrency")', positiveInt('--concurrency'))
    .option('--fail-fast', 'start no more tenants after the first failure')
    .option('--canary <n>', 'run n tenants first; stop before the rest if any fails', positiveInt('--canary'))
    .option('--max-failures <k>', 'start no more tenants after k failures', positiveInt('--max-failures'))
    .action((opts, cmd: Command) => {
      const ids: string[] | undefined = opts.tenant;
      const fleet =
        opts.all ||
        (ids?.length ?? 0) > 1 ||
        opts.failFast ||
        opts.canary !== undefined ||
        opts.maxFailures !== undefined ||
        opts.concurrency !== undefined;
      if (fleet) {
        const options: ExecFleetOptions = {
          tenants: ids,
          all: opts.all,
          sql: opts.command,
          file: opts.file,
          concurrency: opts.concurrency,
          failFast: opts.failFast,
          canary: opts.canary,
          maxFailures: opts.maxFailures,
        };
        return run(
          cmd,
          async (tc, env) => {
            env.progress.start('exec');
            const r = await execFleet(tc, options);
            const human = r.tenants.map((t) => {
              if (t.status === 'failed') return `${env.c.red('failed')}   ${t.id}: ${t.error ?? ''}`;
              if (t.status === 'skipped') return `${env.c.yellow('skipped')}  ${t.id}: ${t.error ?? ''}`;
              const last = t.results?.at(-1);
              return `${env.c.green('done')}     ${t.id}${last ? `: ${statusLine(last)}` : ''}`;
            });
            if (r.stoppedBecause) human.push(env.c.yellow(`stopped early: ${r.stoppedBecause}`));
            human.push(
              `${r.summary.done} done, ${r.summary.failed} failed, ${r.summary.skipped} skipped` +
                (r.summary.failed > 0 ? ' (failed tenants were rolled back)' : ''),
            );
            return {
              json: { tenants: r.tenants, summary: r.summary, ...(r.stoppedBecause ? { stoppedBecause: r.stoppedBecause } : {}) },
              human,
              exitCode: fleetExitCode(r.tenants),
            };
          },
          { validate: () => void validateExecFleetOptions(options) },
        );
      }
      const options = { tenant: ids?.[0] ?? '', sql: opts.command, file: opts.file };
      return run(
        cmd,
        async (tc) => {
          const r = await execAsTenant(tc, options);
          const human: string[] = [];
          for (const res of r.results) {
            if (res.fields.length > 0) {
              human.push(
                ...table(
                  res.fields,
                  res.rows.map((row) => res.fields.map((f) => cell(row[f]))),
                  { upper: false },
                ),
              );
              human.push(`(${res.rows.length} row${res.rows.length === 1 ? '' : 's'})`);
            } else human.push(statusLine(res));
          }
          return { json: { tenant: r.tenant, results: r.results }, human, exitCode: 0 };
        },
        {
          validate: () => {
            if (ids === undefined) throw new InputError('usage', 'exec needs --tenant ID (one or more) or --all');
            validateExecOptions(options);
          },
        },
      );
    });
}

function statusLine(res: { command: string | null; rowCount: number | null; fields: string[]; rows: unknown[] }): string {
  if (res.fields.length > 0) return `${res.rows.length} row${res.rows.length === 1 ? '' : 's'}`;
  return `${res.command ?? 'OK'}${res.rowCount !== null && res.command !== null ? ` ${res.rowCount}` : ''}`;
}
