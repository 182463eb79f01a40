import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { relocateOnCitus, validateRelocateOnCitusOptions } from '../../citus/relocate.js';
import { relocateTenant, validateRelocateOptions } from '../../tenants/relocate/index.js';
import type { RelocateMode, RelocateOptions } from '../../index.js';
import type { RunFn as Run } from '../run.js';
import { table } from '../table.js';

/** A Citus worker as `--to` names it: HOST:PORT (a server name of the config has no colon). */
const WORKER = /^[^\s:]+:\d+$/;

/**
 * `tenant relocate ID --to SERVER`: one tenant with every row to another server of the fleet;
 * `--to HOST:PORT` on a Citus coordinator: its distributed schema to that worker (citus_schema_move).
 */
export function registerRelocateCommand(tenant: Command, run: Run): void {
  tenant
    .command('relocate')
    .description('move one tenant with every row to another server of the fleet; its copy on the old server is archived')
    .argument('<id>', 'tenant id')
    .requiredOption(
      '--to <server>',
      'the server it goes to: a name of the config\'s "servers", or "default" for the home server; on a Citus coordinator, a worker as HOST:PORT',
    )
    .option('--mode <mode>', 'auto, copy or logical: how the rows travel (auto: logical replication where possible, else a copy)', 'auto')
    .option('--block-writes', "copy mode: the tenant's writes wait until the copy is done (reads go on)")
    .option('--purge-source', 'drop the archived copy on the old server (schema, role, registry row) once the tenant has moved')
    .action((id: string, opts, cmd: Command) => {
      if (WORKER.test(String(opts.to))) return relocateOnWorker(id, opts, cmd, run);
      const options: RelocateOptions = {
        id,
        to: opts.to as string,
        mode: opts.blockWrites && opts.mode === 'auto' ? 'copy' : (opts.mode as RelocateMode),
        blockWrites: opts.blockWrites === true,
        purgeSource: opts.purgeSource === true,
      };
      return run(
        cmd,
        async (tc, env) => {
          env.progress.start(`relocating ${id} to ${options.to}`);
          const r = await relocateTenant(tc, options);
          const { c } = env;
          const archive = r.archivedSource ? `archived on ${r.from} as ${r.archivedSource}` : `purged from ${r.from}`;
          const human = r.converged
            ? [`${c.green('finished')} ${id}: already on ${r.to}; its copy ${archive}`]
            : [
                ...(r.tables.length > 0
                  ? table(
                      ['table', 'rows', 'checksum'],
                      r.tables.map((t) => [t.table, t.rows, t.checksum]),
                    )
                  : []),
                `${c.green('relocated')} ${id} from ${r.from} to ${r.to} (${r.mode} mode): ${r.rows} row${r.rows === 1 ? '' : 's'}, ${r.bytes} bytes in ${r.seconds}s; ${archive}`,
              ];
          return { json: { ...r }, human, exitCode: 0 };
        },
        { validate: () => validateRelocateOptions(options) },
      );
    });
}

/** `tenant relocate ID --to HOST:PORT [--block-writes]` on a Citus coordinator. */
function relocateOnWorker(id: string, opts: { to: string; blockWrites?: boolean; mode?: string }, cmd: Command, run: Run) {
  const options = { id, to: opts.to, blockWrites: opts.blockWrites === true };
  return run(
    cmd,
    async (tc, env) => {
      env.progress.start(`moving ${id} to worker ${options.to}`);
      const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
      const r = await relocateOnCitus(tc, {
        ...options,
        onProgress: (p) =>
          env.progress.note(`moving ${id} to ${options.to}: ${mb(p.copiedBytes)} of ${mb(p.totalBytes)}, ${p.seconds.toFixed(1)} s`),
      });
      const where = (w: { host: string; port: number }) => `${w.host}:${w.port}`;
      const human =
        r.status === 'already-there'
          ? [`${id} is already on ${where(r.to)}`]
          : [
              `${env.c.green('relocated')} ${id} ${where(r.from)} -> ${where(r.to)} (${r.mode.replace('_', ' ')}, ${mb(r.sizeBytes)}, ${r.seconds.toFixed(1)} s)`,
            ];
      return { json: { ...r }, human, exitCode: 0 };
    },
    {
      validate: () => {
        if (opts.mode !== undefined && opts.mode !== 'auto')
          throw new InputError('usage', '--mode is for a move between servers of the fleet; on Citus, choose --block-writes or not');
        validateRelocateOnCitusOptions(options);
      },
    },
  );
}
