import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { assertTenantId } from '../../runtime/ids.js';
import { createTenants, validateCreateOptions } from '../../tenants/create.js';
import { InputError } from '../../errors.js';
import { validateRemoveOptions, removeTenants } from '../../tenants/remove.js';
import { validateUpdateOptions, updateTenant } from '../../tenants/update.js';
import { listTenants, validateListOptions, showTenant } from '../../tenants/list.js';
import { restoreTenant } from '../../tenants/restore.js';
import { rebalanceOnCitus } from '../../citus/rebalance.js';
import type { TenantRunResult, Placement } from '../../index.js';
import type { Io } from '../io.js';
import { fleetExitCode, type Outcome } from '../outcome.js';
import { collectPairs, listOf, positiveInt } from '../parse.js';
import type { CommandEnv, Registrars } from '../run.js';
import { table } from '../table.js';
import { registerRelocateCommand } from './relocate.js';

export function fleetLines(env: CommandEnv, tenants: readonly TenantRunResult[], verb: string): string[] {
  const { c } = env;
  return tenants
    .filter((t) => t.status !== 'up-to-date')
    .map((t) => {
      if (t.status === 'failed') return `${c.red('failed')}   ${t.id}: ${t.error ?? ''}`;
      if (t.status === 'skipped') return `${c.yellow('skipped')}  ${t.id}: ${t.error ?? ''}`;
      if (t.status === 'exists') return `${c.dim('exists')}   ${t.id}: already created at the head; left as it is`;
      return `${c.green(verb)} ${t.id}${t.applied.length ? ` (${t.applied.length} migration${t.applied.length === 1 ? '' : 's'})` : ''}`;
    });
}

async function confirm(io: Io, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export function registerTenantCommands(program: Command, { run, io, flagsOf }: Registrars): void {
  const tenant = program.command('tenant').description('create, list, show, update, remove, restore and relocate tenants');

  tenant
    .command('create')
    .description('register tenants, create their schemas (and roles) and apply every tenant migration')
    .argument('<id...>', 'tenant ids')
    .option('--name <text>', 'display name')
    .option('--key <value>', 'the tenant key its rows carry in the ownership column (default: the id)')
    .option('--set <key=value>', 'tenant config value (repeatable)', collectPairs)
    .option('--concurrency <n>', 'tenants created at once', positiveInt('--concurrency'))
    .option('--replay', 'replay every migration (no captured structure, no spare from the pool)')
    .option('--server <name>', 'put them on this server of the config\'s "servers" (default: the home server, "default")')
    .action((ids: string[], opts, cmd: Command) => {
      const options = {
        ids,
        name: opts.name,
        key: opts.key,
        set: opts.set,
        concurrency: opts.concurrency,
        replay: opts.replay === true,
        server: opts.server as string | undefined,
      };
      return run(
        cmd,
        async (tc, env) => {
          env.progress.start(`creating ${ids.length} tenant${ids.length === 1 ? '' : 's'}`);
          const r = await createTenants(tc, options);
          const s = r.summary;
          const exists = r.tenants.filter((t) => t.status === 'exists').length;
          return {
            json: {
              tenants: r.tenants,
              summary: { created: s.migrated, exists, failed: s.failed, skipped: s.skipped },
              ...(r.replayBecause ? { replayBecause: r.replayBecause } : {}),
            },
            human: [
              ...fleetLines(env, r.tenants, 'created'),
              ...(r.replayBecause ? [`${env.c.yellow('replayed')} the migrations: ${r.replayBecause}`] : []),
              `${s.migrated} created, ${exists ? `${exists} already there, ` : ''}${s.failed} failed, ${s.skipped} skipped`,
            ],
            exitCode: fleetExitCode(r.tenants),
          };
        },
        { validate: () => validateCreateOptions(options) },
      );
    });

  tenant
    .command('list')
    .description('id, schema, status, key, applied and pending migrations of every tenant')
    .option('--status <status>', 'only tenants with this status: active, suspended or archived')
    .option('--pooled', "also the pool's spare tenants")
    .option('--server <name>', 'only the tenants on this server (a name from the config\'s "servers", or "default")')
    .action((opts, cmd: Command) =>
      run(
        cmd,
        async (tc) => {
          const r = await listTenants(tc, { status: opts.status, pooled: opts.pooled === true, server: opts.server });
          // The server column only once the fleet has more than one server.
          const servers = tc.servers.names().length > 1 || r.tenants.some((t) => t.server !== 'default');
          // On Citus: the worker each tenant lives on, and its size.
          const citus = r.tenants.some((t) => t.placement !== undefined);
          const head = [
            'id',
            'schema',
            'status',
            'key',
            'applied',
            'pending',
            ...(servers ? ['server'] : []),
            ...(citus ? ['worker', 'size'] : []),
          ];
          return {
            json: { tenants: r.tenants, ...(r.unreachable.length > 0 ? { unreachable: r.unreachable } : {}) },
            human: [
              ...(r.tenants.length === 0 && r.unreachable.length === 0
                ? ['no tenants']
                : table(head, [
                    ...r.tenants.map((t) => [
                      t.pooled ? `${t.id} (spare)` : t.id,
                      t.schema,
                      t.status,
                      t.key,
                      t.applied,
                      t.pending,
                      ...(servers ? [t.server] : []),
                      ...(citus ? placementCells(t.placement) : []),
                    ]),
                    ...r.unreachable.map((u) => [u.id, '', 'unreachable', '', '', '', u.server]),
                  ])),
              ...r.unreachable.map((u) => `${u.id}: ${u.error}`),
            ],
            // A server that could not be read: exit 3, as for a database that cannot be reached.
            exitCode: r.unreachable.length > 0 ? 3 : 0,
          };
        },
        { validate: () => validateListOptions(undefined, { status: opts.status, server: opts.server }) },
      ),
    );

  tenant
    .command('show')
    .description('one tenant: registry fields, config and applied migrations')
    .argument('<id>', 'tenant id')
    .action((id: string, _opts, cmd: Command) =>
      run(
        cmd,
        async (tc) => {
          const { tenant: t } = await showTenant(tc, id);
          return {
            json: { tenant: t },
            human: [
              ...table(
                ['field', 'value'],
                [
                  ['id', t.id],
                  ['name', t.name],
                  ['schema', t.schema],
                  ['role', t.role],
                  ['status', t.status],
                  ['server', t.server],
                  ...(t.placement !== undefined ? [['placement', placementText(t.placement)]] : []),
                  ['key', t.key],
                  ['applied', t.applied],
                  ['pending', t.pending],
                  ['config', JSON.stringify(t.config)],
                  ['created', t.createdAt],
                  ['updated', t.updatedAt],
                  ...(t.archivedAt ? [['archived', t.archivedAt]] : []),
                ],
              ),
              '',
              ...(t.migrations.length
                ? table(
                    ['migration', 'run on'],
                    t.migrations.map((m) => [m.name, m.runOn]),
                  )
                : ['no migrations applied']),
            ],
            exitCode: 0,
          };
        },
        { validate: () => assertTenantId(id) },
      ),
    );

  tenant
    .command('rebalance')
    .description("on a Citus coordinator: even the tenants out over the workers with Citus's rebalancer (online, or --block-writes)")
    .option('--block-writes', 'block writes to each moving tenant for its whole copy (needed for tables without a replica identity)')
    .action((opts, cmd: Command) =>
      run(cmd, async (tc, env) => {
        env.progress.start('rebalancing');
        const r = await rebalanceOnCitus(tc, {
          blockWrites: opts.blockWrites === true,
          onProgress: (p) =>
            env.progress.note(
              p.moving.length === 0
                ? `rebalancing (${Math.round(p.seconds)} s)`
                : `moving ${p.moving.map((m) => `${m.schema} ${bytesText(m.copiedBytes)} of ${bytesText(m.totalBytes)}`).join(', ')} (${Math.round(p.seconds)} s)`,
            ),
        });
        env.progress.stop();
        return {
          json: { ...r },
          human:
            r.moved.length === 0
              ? ['the tenants are balanced already; nothing moved']
              : [
                  `${env.c.green('rebalanced')}: ${r.moved.length} tenant${r.moved.length === 1 ? '' : 's'} moved (${r.mode}) in ${r.seconds.toFixed(1)} s`,
                  ...table(
                    ['id', 'from', 'to'],
                    r.moved.map((m) => [m.id, `${m.from.host}:${m.from.port}`, `${m.to.host}:${m.to.port}`]),
                  ),
                ],
          exitCode: 0,
        };
      }),
    );

  tenant
    .command('update')
    .description('change registry fields and tenant config')
    .argument('<id>', 'tenant id')
    .option('--name <text>', 'display name')
    .option('--set <key=value>', 'set a config value (repeatable)', collectPairs)
    .option('--unset <key>', 'remove a config value (repeatable)', listOf('--unset'))
    .option('--status <status>', 'active or suspended')
    .action((id: string, opts, cmd: Command) =>
      run(
        cmd,
        async (tc, env) => {
          const r = await updateTenant(tc, { id, name: opts.name, set: opts.set, unset: opts.unset, status: opts.status });
          return {
            json: { tenant: r.tenant, changed: r.changed },
            human: [`${env.c.green('updated')} ${id}: ${r.changed.join(', ')}`],
            exitCode: 0,
          };
        },
        { validate: () => validateUpdateOptions({ id, name: opts.name, set: opts.set, unset: opts.unset, status: opts.status }) },
      ),
    );

  tenant
    .command('remove')
    .description('archive tenants (schema renamed, access revoked, data kept), or drop them with --purge')
    .argument('<id...>', 'tenant ids')
    .option('--purge', 'drop schema, role and registry row (the row counts dropped are logged)')
    .option('--yes', 'do not ask for confirmation')
    .option('--dry-run', 'say what would be removed; change nothing')
    .action(async (ids: string[], opts, cmd: Command) => {
      const flags = flagsOf(cmd);
      const verb = opts.purge ? 'purge' : 'archive';
      const ask = !opts.yes && !opts.dryRun;
      const validate = () => {
        validateRemoveOptions({ ids });
        if (ask && (!io.stdin.isTTY || !io.stderr.isTTY || flags.json)) {
          throw new InputError('confirmation_required', `refusing to ${verb} ${ids.join(', ')} without --yes (no terminal to ask)`);
        }
      };
      await run(
        cmd,
        async (tc, env) => {
          if (ask) {
            // Validate before asking, so a typo is not confirmed first.
            for (const id of ids) await showTenant(tc, id);
            if (!(await confirm(io, `${verb} ${ids.join(', ')}?`))) throw new InputError('cancelled', `${verb} cancelled; nothing changed`);
          }
          const r = await removeTenants(tc, { ids, purge: opts.purge, dryRun: opts.dryRun });
          const human = r.tenants.map((t) => {
            if (t.status === 'failed') return `${env.c.red('failed')} ${t.id}: ${t.error}`;
            if (t.status === 'skipped') return `${env.c.yellow('skipped')} ${t.id}: ${t.error}`;
            if (t.status === 'gone') return `${env.c.dim('gone')} ${t.id}: purged earlier; nothing to do`;
            const what = t.status.startsWith('would') ? `would ${verb}` : `${verb}d`;
            const rows = `${t.totalRows} row${t.totalRows === 1 ? '' : 's'} ${opts.purge ? 'dropped' : 'kept'}`;
            return `${env.c.green(what)} ${t.id} (schema ${t.schema}${t.server ? `, server ${t.server}` : ''}, ${rows})`;
          });
          for (const t of r.tenants)
            for (const c of t.copies ?? [])
              human.push(
                c.status === 'purged'
                  ? `${env.c.green('purged')} ${t.id}'s archived copy on server ${c.server} (schema ${c.schema})`
                  : `${env.c.red('failed')} ${t.id}'s archived copy on server ${c.server} (schema ${c.schema}): ${c.error ?? ''}`,
              );
          // An archived copy on another server that could not be purged fails the run (exit 1) as a tenant would.
          const exitCode = fleetExitCode([...r.tenants, ...r.tenants.flatMap((t) => t.copies ?? [])]);
          return { json: { tenants: r.tenants, dryRun: Boolean(opts.dryRun) }, human, exitCode };
        },
        { validate },
      );
    });

  tenant
    .command('restore')
    .description('undo an archive')
    .argument('<id>', 'tenant id')
    .action((id: string, _opts, cmd: Command) =>
      run(
        cmd,
        async (tc, env) => {
          const r = await restoreTenant(tc, id);
          return {
            json: { tenant: r },
            human: [`${env.c.green('restored')} ${id} (schema ${r.schema}, ${r.totalRows} rows)`],
            exitCode: 0,
          };
        },
        { validate: () => assertTenantId(id) },
      ),
    );

  registerRelocateCommand(tenant, run);
}

export type { Outcome };

/** A tenant's Citus placement as table cells: the worker and the size. */
function placementCells(p: Placement | null | undefined): string[] {
  return p ? [`${p.host}:${p.port}`, bytesText(p.sizeBytes)] : ['-', '-'];
}

function placementText(p: Placement | null | undefined): string {
  return p ? `${p.host}:${p.port} (${bytesText(p.sizeBytes)})` : 'none yet (no table)';
}

function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
