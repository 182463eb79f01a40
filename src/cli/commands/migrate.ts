import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { migrate, validateMigrateOptions } from '../../migrate/up.js';
import { migrateDown, validateDownOptions } from '../../migrate/down.js';
import { migrateStatus, validateStatusOptions } from '../../migrate/status.js';
import { newMigration, validateNewMigrationOptions } from '../../migrate/new.js';
import { parseFailOn } from '../../verify/index.js';
import type { MigrateOptions } from '../../index.js';
import { lintBeforeMigrate } from './migrate-lint.js';
import { fleetExitCode } from '../outcome.js';
import { listOf, positiveInt } from '../parse.js';
import type { Registrars } from '../run.js';
import { table } from '../table.js';
import { fleetLines } from './tenant.js';

/** A flag that takes 0 or more. */
function wholeNumber(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InputError('usage', `${flag} must be a whole number (0 or more), got "${value}"`);
    return Number(value);
  };
}

export function registerMigrateCommands(program: Command, { run, runOff: runOffline }: Registrars): void {
  const m = program.command('migrate').description('apply, inspect and roll back migrations');

  m.command('up', { isDefault: true })
    .description('bring tenants (default: all active) to the head, or to --to NAME; shared migrations first')
    .option('--tenant <id...>', 'only these tenants', listOf('--tenant'))
    .option('--concurrency <n>', 'tenants migrated at once (config "concurrency")', positiveInt('--concurrency'))
    .option('--to <name>', 'stop at this migration (inclusive)')
    .option('--dry-run', 'list what would run per tenant; change nothing')
    .option('--fail-fast', 'start no more tenants after the first failure')
    .option('--canary <n>', 'migrate n tenants first; stop before the rest if any fails', positiveInt('--canary'))
    .option('--max-failures <k>', 'start no more tenants after k failures', positiveInt('--max-failures'))
    .option('--wait', 'wait for tenants another run holds instead of skipping them')
    .option(
      '--lock-retries <n>',
      'tries again, up to n times, a tenant that hit a lock timeout, deadlock or serialization failure (config "lockRetries", default 3)',
      wholeNumber('--lock-retries'),
    )
    .option('--lint', 'lint the pending migrations first; migrate nothing when a finding is at or above --fail-on')
    .option('--fail-on <level>', 'with --lint: the lowest level that refuses the run, error (default) or warn')
    .action((opts, cmd: Command) => {
      const options: MigrateOptions = {
        tenants: opts.tenant,
        to: opts.to,
        dryRun: opts.dryRun,
        concurrency: opts.concurrency,
        failFast: opts.failFast,
        canary: opts.canary,
        maxFailures: opts.maxFailures,
        wait: opts.wait,
        lockRetries: opts.lockRetries,
      };
      return run(
        cmd,
        async (tc, env) => {
          const refused = opts.lint ? await lintBeforeMigrate(tc, env, { tenants: opts.tenant, failOn: opts.failOn }) : undefined;
          if (refused) return refused;
          env.progress.start('migrating');
          const r = await migrate(tc, options);
          const s = r.summary;
          const human = r.dryRun
            ? [
                ...(r.shared.pending.length ? [`shared: would apply ${r.shared.pending.join(', ')}`] : []),
                ...r.tenants.filter((t) => t.applied.length).map((t) => `${t.id}: would apply ${t.applied.join(', ')}`),
                `dry run: ${s.migrated} tenant${s.migrated === 1 ? '' : 's'} would be migrated, ${s.upToDate} up to date; nothing changed`,
              ]
            : [
                ...(r.shared.applied.length ? [`shared: applied ${r.shared.applied.join(', ')}`] : []),
                ...fleetLines(env, r.tenants, 'migrated'),
                ...r.tenants
                  .filter((t) => t.attempts)
                  .map((t) => env.c.dim(`         ${t.id}: ${t.attempts} attempts (lock timeout, deadlock or serialization failure)`)),
                ...r.tenants
                  .filter((t) => t.repaired?.length)
                  .map((t) => env.c.dim(`         ${t.id}: cleared what an interrupted run left: ${t.repaired!.join(', ')}`)),
                ...(r.stoppedBecause ? [env.c.yellow(`stopped early: ${r.stoppedBecause}`)] : []),
                `${s.migrated} migrated, ${s.upToDate} up to date, ${s.failed} failed, ${s.skipped} skipped` +
                  (s.failed > 0 ? ' (the failed tenants stay at their previous version; fix and rerun)' : ''),
              ];
          return {
            json: {
              dryRun: r.dryRun,
              shared: r.shared,
              tenants: r.tenants.map((t) => ({ ...t, error: t.error ?? null })),
              summary: s,
              ...(r.stoppedBecause ? { stoppedBecause: r.stoppedBecause } : {}),
              stats: r.stats,
            },
            human,
            exitCode: r.dryRun ? 0 : fleetExitCode(r.tenants),
          };
        },
        { validate: () => (validateMigrateOptions(options), void parseFailOn(opts.failOn)) },
      );
    });

  m.command('status')
    .description('applied and pending migrations per tenant, and tenants that disagree with the files')
    .option('--tenant <id...>', 'only these tenants', listOf('--tenant'))
    .option('--check', 'exit 1 when anything is pending')
    .action((opts, cmd: Command) =>
      run(
        cmd,
        async (tc, env) => {
          const r = await migrateStatus(tc, { tenants: opts.tenant });
          const notes = (t: { missing: string[]; changed: string[]; invalidIndexes: string[] }) =>
            [
              ...t.missing.map((n) => `missing file ${n}`),
              ...t.changed.map((n) => `changed ${n}`),
              ...t.invalidIndexes.map((n) => `INVALID index ${n}`),
            ].join('; ');
          const invalid = r.tenants.filter((t) => t.status !== 'archived' && t.invalidIndexes.length > 0).map((t) => t.id);
          const human = [
            `shared: ${r.shared.applied.length} applied, ${r.shared.pending.length} pending${r.shared.pending.length ? ` (${r.shared.pending.join(', ')})` : ''}`,
            ...(r.tenants.length
              ? table(
                  ['tenant', 'status', 'applied', 'pending', 'notes'],
                  r.tenants.map((t) => [
                    t.id,
                    t.status,
                    t.applied.length,
                    t.pending.length ? `${t.pending.length} (${t.pending[0]}${t.pending.length > 1 ? ', ...' : ''})` : '0',
                    notes(t),
                  ]),
                )
              : ['no tenants']),
            ...(r.disagreeing.length
              ? [env.c.yellow(`${r.disagreeing.length} tenant(s) disagree with the migration files: ${r.disagreeing.join(', ')}`)]
              : []),
            ...(invalid.length
              ? [
                  env.c.yellow(
                    `${invalid.length} tenant(s) have INVALID indexes left by a cut-off build: ${invalid.join(', ')}; \`tenantctl migrate\` builds them again`,
                  ),
                ]
              : []),
            ...(r.pendingTotal > invalid.length
              ? [`${r.pendingTotal - invalid.length} migration(s) pending; run \`tenantctl migrate\``]
              : invalid.length
                ? []
                : ['everything is up to date']),
          ];
          return {
            json: { shared: r.shared, tenants: r.tenants, disagreeing: r.disagreeing },
            human: [...human, ...r.tenants.filter((t) => t.error).map((t) => `${t.id}: ${t.error}`)],
            // A tenant whose server could not be read: exit 3, as for a database that cannot be reached.
            exitCode: r.tenants.some((t) => t.status === 'unreachable') ? 3 : opts.check && r.pendingTotal > 0 ? 1 : 0,
          };
        },
        { validate: () => validateStatusOptions({ tenants: opts.tenant }) },
      ),
    );

  m.command('down')
    .description('roll back the named tenants: the last migration, --count N of them, or all after --to NAME')
    .requiredOption('--tenant <id...>', 'tenants to roll back', listOf('--tenant'))
    .option('--count <n>', 'how many migrations to roll back (default 1)', positiveInt('--count'))
    .option('--to <name>', 'roll back everything applied after NAME (NAME stays applied)')
    .option('--wait', 'wait for tenants another run holds instead of skipping them')
    .action((opts, cmd: Command) =>
      run(
        cmd,
        async (tc, env) => {
          const r = await migrateDown(tc, { tenants: opts.tenant, count: opts.count, to: opts.to, wait: opts.wait });
          const s = r.summary;
          return {
            json: { tenants: r.tenants.map((t) => ({ ...t, error: t.error ?? null })), summary: s },
            human: [
              ...fleetLines(env, r.tenants, 'reverted'),
              `${s.migrated} reverted, ${s.upToDate} had nothing to revert, ${s.failed} failed, ${s.skipped} skipped`,
            ],
            exitCode: fleetExitCode(r.tenants),
          };
        },
        { validate: () => validateDownOptions({ tenants: opts.tenant, count: opts.count, to: opts.to }) },
      ),
    );

  m.command('new')
    .description('write a new migration file from a template')
    .argument('<name>', 'what the migration does, e.g. add_due_date')
    .option('--shared', 'a shared migration (default: tenant)')
    .option('--sql', 'an SQL file (default: JavaScript)')
    .action((name: string, opts, cmd: Command) =>
      runOffline(
        cmd,
        async (config) => {
          const r = await newMigration({ config }, { name, shared: opts.shared, sql: opts.sql });
          return { json: { path: r.path }, human: [r.path], exitCode: 0 };
        },
        { validate: () => validateNewMigrationOptions({ name }) },
      ),
    );
}
