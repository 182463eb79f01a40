import { once } from 'node:events';
import type { Command } from 'commander';
import { queryTenants, validateQueryFormat, validateQueryOptions } from '../../query/index.js';
import type { QueryOptions } from '../../index.js';
import { listOf, positiveInt } from '../parse.js';
import type { Registrars } from '../run.js';
import { table } from '../table.js';
import { fleetExitCode } from '../outcome.js';

/** `tenantctl query`: CSV and JSON lines stream to stdout tenant by tenant; a table and --json wait for every tenant. */

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** RFC 4180: quoted when it holds a comma, quote or line break; NULL is empty and the empty string is "". */
export function csvField(v: unknown): string {
  const s = text(v);
  if (s === null) return '';
  return s === '' || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function asObject(columns: readonly string[], tenant: string, row: readonly unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = { tenant };
  for (let i = 1; i < columns.length; i++) o[columns[i]!] = row[i - 1] ?? null;
  return o;
}

/** Outputs whose reader went away (`| head`): what is left of the output is dropped, as psql and other filters do. */
const gone = new WeakSet<NodeJS.WritableStream>();

function isClosedPipe(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === 'EPIPE';
}

/** Writes a chunk, waiting for the reader; after the reader has gone, nothing (every tenant still runs to its end). */
async function write(out: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (gone.has(out)) return;
  if (out.listenerCount('error') === 0) out.on('error', (err) => (isClosedPipe(err) ? gone.add(out) : undefined));
  try {
    if (!out.write(chunk)) await once(out, 'drain');
  } catch (err) {
    if (!isClosedPipe(err)) throw err;
    gone.add(out);
  }
}

export function registerQueryCommand(program: Command, { run }: Registrars): void {
  program
    .command('query')
    .description('run one read-only statement as each tenant (default: every active tenant); one result set whose first column is tenant')
    .option('-c, --command <sql>', 'the statement to run')
    .option('-f, --file <file>', 'file holding the statement')
    .option('--tenant <id...>', 'only these tenants', listOf('--tenant'))
    .option('--format <format>', 'table (default), csv, or json (one JSON object per row, per line)')
    .option('--concurrency <n>', 'tenants queried at once (config "concurrency")', positiveInt('--concurrency'))
    .action((opts, cmd: Command) => {
      const options: QueryOptions = { sql: opts.command, file: opts.file, tenants: opts.tenant, concurrency: opts.concurrency };
      return run(
        cmd,
        async (tc, env) => {
          const format = validateQueryFormat(opts.format);
          const buffer = env.flags.json || format === 'table';
          const kept: { tenant: string; row: unknown[] }[] = [];
          let header = false;
          const out = env.io.stdout;
          env.progress.start('querying');
          const r = await queryTenants(tc, options, async (batch) => {
            if (buffer) {
              for (const row of batch.rows) kept.push({ tenant: batch.tenant, row });
              return;
            }
            let chunk = '';
            if (format === 'csv' && !header) chunk += `${batch.columns.map(csvField).join(',')}\n`;
            header = true;
            for (const row of batch.rows) {
              chunk +=
                format === 'csv'
                  ? `${[batch.tenant, ...row].map(csvField).join(',')}\n`
                  : `${JSON.stringify(asObject(batch.columns, batch.tenant, row))}\n`;
            }
            if (chunk) await write(out, chunk);
          });
          env.progress.stop();
          // Buffered output is in tenant order, whichever tenant (or server) answered first.
          const order = new Map(r.tenants.map((t, i) => [t.id, i]));
          kept.sort((a, b) => order.get(a.tenant)! - order.get(b.tenant)!);
          if (format === 'csv' && !header && !env.flags.json) await write(out, `${r.columns.map(csvField).join(',')}\n`);
          const errors = r.errors.map((e) => `tenant "${e.tenant}": ${e.message}`);
          const human =
            format === 'table'
              ? [
                  ...table(
                    r.columns,
                    kept.map((k) => [k.tenant, ...k.row.map((v) => text(v) ?? '')]),
                    { upper: false },
                  ),
                  `(${r.rows} row${r.rows === 1 ? '' : 's'} from ${r.tenants.length - r.errors.length} tenant${r.tenants.length - r.errors.length === 1 ? '' : 's'}${r.errors.length ? `, ${r.errors.length} failed` : ''})`,
                ]
              : [];
          return {
            json: {
              columns: r.columns,
              rows: kept.map((k) => asObject(r.columns, k.tenant, k.row)),
              errors: r.errors.map((e) => ({ tenant: e.tenant, message: e.message })),
            },
            human,
            errors,
            // A tenant whose server could not be reached is worth retrying (exit 3), unless another one failed outright.
            exitCode: fleetExitCode(r.tenants),
          };
        },
        {
          validate: () => {
            validateQueryFormat(opts.format);
            validateQueryOptions(options);
          },
        },
      );
    });
}
