import type { Command } from 'commander';
import { relocateTenant, validateRelocateOptions, type RelocateMode, type RelocateOptions } from '../../index.js';
import type { RunFn as Run } from '../run.js';
import { table } from '../table.js';

/** `tenant relocate ID --to SERVER`: one tenant with every row to another server of the fleet. */
export function registerRelocateCommand(tenant: Command, run: Run): void {
  tenant
    .command('relocate')
    .description('move one tenant with every row to another server of the fleet; its copy on the old server is archived')
    .argument('<id>', 'tenant id')
    .requiredOption('--to <server>', 'the server it goes to: a name of the config\'s "servers", or "default" for the home server')
    .option('--mode <mode>', 'auto, copy or logical: how the rows travel (auto: logical replication where possible, else a copy)', 'auto')
    .option('--block-writes', "copy mode: the tenant's writes wait until the copy is done (reads go on)")
    .option('--purge-source', 'drop the archived copy on the old server (schema, role, registry row) once the tenant has moved')
    .action((id: string, opts, cmd: Command) => {
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
