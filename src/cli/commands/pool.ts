// `tenant pool fill N` and `tenant pool status`: spare tenants kept at the head, taken by `tenant create`.
import type { Command } from 'commander';
import { fillPool, poolStatus, validateFillPoolOptions } from '../../tenants/instant/pool.js';
import { InputError } from '../../errors.js';
import type { PoolStatus } from '../../index.js';
import { fleetExitCode } from '../outcome.js';
import { positiveInt } from '../parse.js';
import type { Registrars } from '../run.js';
import { fleetLines } from './tenant.js';

function statusLine(s: PoolStatus): string {
  const behind = s.spares - s.atHead;
  const capture = s.captured
    ? s.renameSafe
      ? 'captured'
      : 'captured, spares not possible (the migrations hold tenant names as text)'
    : 'not captured yet';
  return `${s.atHead} spare${s.atHead === 1 ? '' : 's'} at the head${behind ? `, ${behind} behind it (run migrate)` : ''}; head structure ${capture}`;
}

function countOf(value: string): number {
  if (!/^\d+$/.test(value)) throw new InputError('usage', `tenant pool fill needs a count of 0 or more, got "${value}"`);
  return Number(value);
}

export function registerPoolCommands(program: Command, { run }: Registrars): void {
  const tenant = program.commands.find((c) => c.name() === 'tenant')!;
  const pool = tenant.command('pool').description('spare tenants kept at the head, so that tenant create only renames one');

  pool
    .command('fill')
    .description('make spare tenants until the pool holds N at the head')
    .argument('<n>', 'how many spares to keep')
    .option('--concurrency <n>', 'spares made at once', positiveInt('--concurrency'))
    .option('--server <name>', 'the server whose pool to fill (a name from the config\'s "servers"; default the home server)')
    .action((n: string, opts, cmd: Command) => {
      const options = () => ({
        count: countOf(n),
        concurrency: opts.concurrency as number | undefined,
        server: opts.server as string | undefined,
      });
      return run(
        cmd,
        async (tc, env) => {
          env.progress.start('filling the pool');
          const r = await fillPool(tc, options());
          const made = r.tenants.filter((t) => t.status === 'created').length;
          return {
            json: { spares: r.tenants, pool: r.status },
            human: [
              ...fleetLines(
                env,
                r.tenants.filter((t) => t.status !== 'created'),
                'made',
              ),
              `${made} spare${made === 1 ? '' : 's'} made; ${statusLine(r.status)}`,
            ],
            exitCode: fleetExitCode(r.tenants),
          };
        },
        { validate: () => validateFillPoolOptions(options()) },
      );
    });

  pool
    .command('status')
    .description('how many spares the pool holds, at the head and behind it')
    .option('--server <name>', 'the server whose pool to show (default the home server)')
    .action((opts: { server?: string }, cmd: Command) =>
      run(cmd, async (tc) => {
        const s = await poolStatus(tc, { server: opts.server });
        return { json: { pool: s }, human: [statusLine(s)], exitCode: 0 };
      }),
    );
}
