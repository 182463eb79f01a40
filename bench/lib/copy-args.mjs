// Command-line options of bench/copy.mjs.
import { parseArgs } from 'node:util';

export const COPY_USAGE = `usage: node bench/copy.mjs [options]

  --quick               about 50,000 rows instead of 1,000,000; a minute or two
  --rows N              rows in the source tenant, across the example application's tables
  --database-url URL    server to use (else DATABASE_URL); a database bench_copy is created
                        there and dropped at the end
  --repeat R            rounds, legs interleaved in a rotating order; medians reported (default 3)
  --settle S            seconds of rest before every timed run (default 5, quick 1)
  --out FILE            result file (default bench/results/<date>-copy[-quick].md)
  --no-write            print the report only
  --keep                keep the bench_copy database
  -h, --help`;

export class CopyUsageError extends Error {}

function positive(value, name, { allowZero = false } = {}) {
  const n = Number(value);
  if (!Number.isFinite(n) || n < (allowZero ? 0 : 1))
    throw new CopyUsageError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${value}"`);
  return n;
}

export function parseCopyOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        rows: { type: 'string' },
        'database-url': { type: 'string' },
        repeat: { type: 'string', default: '3' },
        settle: { type: 'string' },
        out: { type: 'string' },
        'no-write': { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    throw new CopyUsageError(`${e.message}\n${COPY_USAGE}`);
  }
  if (values.help) return { help: true };
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  if (!databaseUrl)
    throw new CopyUsageError(
      'no database: pass --database-url URL or set DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres)',
    );
  return {
    quick: values.quick,
    rows: values.rows ? Math.floor(positive(values.rows, '--rows')) : values.quick ? 50_000 : 1_000_000,
    databaseUrl,
    repeat: Math.floor(positive(values.repeat, '--repeat')),
    settle: values.settle !== undefined ? positive(values.settle, '--settle', { allowZero: true }) : values.quick ? 1 : 5,
    out: values.out,
    write: !values['no-write'],
    keep: values.keep,
  };
}
