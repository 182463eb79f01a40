import type { Command } from 'commander';
import { exportTenant, validateExportOptions } from '../../tenants/export.js';
import { importTenant, validateImportOptions } from '../../tenants/import.js';
import type { DataFormat } from '../../index.js';
import type { Registrars } from '../run.js';

/** `tenant export` and `tenant import`: one tenant out to a folder, and back in as a new tenant. */

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function registerExportImportCommands(program: Command, { run }: Registrars): void {
  const tenant = program.commands.find((c) => c.name() === 'tenant');
  if (!tenant) throw new Error('the tenant command must be registered first');

  tenant
    .command('export')
    .description('write one consistent snapshot of a tenant (registry entry, journal, structure, rows, sequences) to a new folder')
    .argument('<id>', 'tenant id')
    .requiredOption('--out <path>', 'the folder to write (must not exist, or be empty)')
    .option('--format <format>', 'native (default; what import reads), csv or jsonl (rows for people and other tools)')
    .action((id: string, opts, cmd: Command) => {
      const options = { tenant: id, out: opts.out, format: opts.format as DataFormat | undefined };
      return run(
        cmd,
        async (tc, env) => {
          env.progress.start(`exporting ${id}`);
          const r = await exportTenant(tc, options);
          return {
            json: { ...r },
            human: [
              `exported ${r.tenant} at ${r.version ?? 'no migration'}: ${r.rows} rows in ${r.tables.length} tables (${size(r.bytes)}, ${r.format}) to ${r.path} in ${r.seconds}s`,
            ],
            exitCode: 0,
          };
        },
        { validate: () => void validateExportOptions(options) },
      );
    });

  tenant
    .command('import')
    .description('create a tenant from an export: at its version, its rows under the new key, then migrated to the head; one transaction')
    .argument('<path>', 'the folder `tenant export` wrote')
    .requiredOption('--as <id>', "the new tenant's id")
    .option('--key <value>', "the new tenant's key, written into the ownership column (default: the id)")
    .option('--server <name>', 'the server to make it on: a name from the config\'s "servers" (default: the home server)')
    .action((path: string, opts, cmd: Command) => {
      const options = { path, as: opts.as, key: opts.key, server: opts.server as string | undefined };
      return run(
        cmd,
        async (tc, env) => {
          env.progress.start(`importing ${opts.as}`);
          const r = await importTenant(tc, options);
          if (r.adopted)
            return {
              json: { ...r },
              human: [
                `imported ${r.tenant} on server ${r.server ?? 'default'} earlier (that run stopped before recording it); recorded now: ${r.rows} rows`,
              ],
              exitCode: 0,
            };
          return {
            json: { ...r },
            human: [
              `imported ${r.from.tenant} as ${r.tenant} (key ${r.key}${r.server ? `, server ${r.server}` : ''}): ${r.rows} rows in ${r.tables.length} tables, rebuilt at ${r.from.version ?? 'no migration'}` +
                (r.applied.length ? `, then ${r.applied.length} migration${r.applied.length === 1 ? '' : 's'} to the head` : '') +
                ` in ${r.seconds}s`,
            ],
            exitCode: 0,
          };
        },
        { validate: () => void validateImportOptions(options) },
      );
    });
}
