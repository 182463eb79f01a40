import type { Command } from 'commander';
import { execAsTenant, init, validateExecOptions } from '../../index.js';
import type { RunFn as Run } from '../run.js';
import { table } from '../table.js';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function registerOtherCommands(program: Command, run: Run): void {
  program
    .command('init')
    .description('create or upgrade the control schema and apply pending shared migrations (idempotent)')
    .action((_opts, cmd: Command) =>
      run(cmd, async (tc) => {
        const r = await init(tc);
        const v = r.controlVersion;
        return {
          json: { controlSchema: r.controlSchema, controlVersion: v.to, upgradedFrom: v.from, shared: r.shared },
          human: [
            v.from === v.to ? `control schema ${r.controlSchema} is current (version ${v.to})` : `control schema ${r.controlSchema} ${v.from === 0 ? 'created' : `upgraded from version ${v.from}`} (version ${v.to})`,
            r.shared.applied.length ? `shared migrations applied: ${r.shared.applied.join(', ')}` : 'shared migrations: none pending',
          ],
          exitCode: 0,
        };
      }),
    );

  program
    .command('exec')
    .description("run SQL as a tenant (its search_path, its role, its key setting) in one transaction")
    .requiredOption('--tenant <id>', 'tenant id')
    .option('-c, --command <sql>', 'SQL to run')
    .option('-f, --file <file>', 'file of SQL to run')
    .action((opts, cmd: Command) =>
      run(cmd, async (tc) => {
        const r = await execAsTenant(tc, { tenant: opts.tenant, sql: opts.command, file: opts.file });
        const human: string[] = [];
        for (const res of r.results) {
          if (res.fields.length > 0) {
            human.push(...table(res.fields, res.rows.map((row) => res.fields.map((f) => cell(row[f]))), { upper: false }));
            human.push(`(${res.rows.length} row${res.rows.length === 1 ? '' : 's'})`);
          } else human.push(`${res.command ?? 'OK'}${res.rowCount !== null && res.command !== null ? ` ${res.rowCount}` : ''}`);
        }
        return { json: { tenant: r.tenant, results: r.results }, human, exitCode: 0 };
      }, { validate: () => void validateExecOptions({ tenant: opts.tenant, sql: opts.command, file: opts.file }) }),
    );
}
