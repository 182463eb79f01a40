// Command-line options of bench/migrate.mjs.
import { parseArgs } from 'node:util';

export const ALL_TOOLS = ['floor', 'tenantctl', 'npm-cli', 'runner-seq', 'runner-4'];
export const ALL_SCENARIOS = [1, 2, 3];

// Tenant counts per scenario: full size, and small ones for trying changes.
const SIZES = {
  full: { n1: 1000, n2: 1000, n3: 10000, settle: 20, cliLoopMax: 1000 },
  quick: { n1: 20, n2: 20, n3: 200, settle: 2, cliLoopMax: 20 },
};

export const USAGE = `usage: node bench/migrate.mjs [options]

  --quick                 small N (20 / 20 / 200) for trying changes; about 2 minutes
  --scenario LIST         which scenarios, e.g. 1,3 (default 1,2,3)
  --tools LIST            which legs, e.g. tenantctl,runner-4 (default all:
                          ${ALL_TOOLS.join(',')})
  --database-url URL      server to use (else DATABASE_URL); databases bench_* are
                          created on it and dropped after each run
  --repeat R              rounds per scenario, tools interleaved; medians reported (default 1)
  --settle S              seconds of rest before every timed run (default 20, quick 2)
  --concurrency C         tenantctl --concurrency (default 4, like runner-4)
  --n1 N, --n2 N, --n3 N  tenant counts of scenarios 1, 2, 3 (default 1000/1000/10000)
  --cli-loop-max K        run the node-pg-migrate CLI loop on at most K tenants and
                          extrapolate its wall time linearly (default 1000, quick 20; 0 = no cap)
  --setup-jobs J          parallel psql sessions for untimed setup (default 2)
  --out FILE              result file (default bench/results/<date>-migrate[-quick].md)
  --no-write              print the table only
  --keep-workdir          keep bench/.work/ (workload, scripts, logs of every run)
  -h, --help`;

function list(value, allowed, what) {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.map(String).includes(item)) {
      throw new UsageError(`unknown ${what} "${item}"; choose from ${allowed.join(',')}`);
    }
  }
  return items;
}

function positiveInt(value, name, { allowZero = false } = {}) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1))
    throw new UsageError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${value}"`);
  return n;
}

function seconds(value, name) {
  const s = Number(value);
  if (!Number.isFinite(s) || s < 0) throw new UsageError(`${name} must be a number of seconds >= 0, got "${value}"`);
  return s;
}

export class UsageError extends Error {}

export function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseFlags(argv));
  } catch (e) {
    throw new UsageError(`${e.message}\n${USAGE}`);
  }
  return optionsFrom(values);
}

function parseFlags(argv) {
  return parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string' },
      tools: { type: 'string' },
      'database-url': { type: 'string' },
      repeat: { type: 'string', default: '1' },
      settle: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      n1: { type: 'string' },
      n2: { type: 'string' },
      n3: { type: 'string' },
      'cli-loop-max': { type: 'string' },
      'setup-jobs': { type: 'string', default: '2' },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      'keep-workdir': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
}

function optionsFrom(values) {
  if (values.help) return { help: true };

  const size = values.quick ? SIZES.quick : SIZES.full;
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  if (!databaseUrl) {
    throw new UsageError(
      'no database: pass --database-url URL or set DATABASE_URL ' +
        '(e.g. postgresql://postgres@127.0.0.1:5432/postgres); the benchmark creates and drops databases named bench_* there',
    );
  }
  return {
    quick: values.quick,
    databaseUrl,
    scenarios: values.scenario ? list(values.scenario, ALL_SCENARIOS, 'scenario').map(Number) : ALL_SCENARIOS,
    tools: values.tools ? list(values.tools, ALL_TOOLS, 'tool') : ALL_TOOLS,
    repeat: positiveInt(values.repeat, '--repeat'),
    settle: values.settle !== undefined ? seconds(values.settle, '--settle') : size.settle,
    concurrency: positiveInt(values.concurrency, '--concurrency'),
    n: {
      1: values.n1 ? positiveInt(values.n1, '--n1') : size.n1,
      2: values.n2 ? positiveInt(values.n2, '--n2') : size.n2,
      3: values.n3 ? positiveInt(values.n3, '--n3') : size.n3,
    },
    cliLoopMax:
      values['cli-loop-max'] !== undefined ? positiveInt(values['cli-loop-max'], '--cli-loop-max', { allowZero: true }) : size.cliLoopMax,
    setupJobs: positiveInt(values['setup-jobs'], '--setup-jobs'),
    out: values.out,
    write: !values['no-write'],
    keepWorkdir: values['keep-workdir'],
  };
}
