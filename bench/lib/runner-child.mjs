#!/usr/bin/env node
// node-pg-migrate's runner() once per tenant schema, in this one process, `concurrency` at a time.
// Run as a child of the benchmark so that its wall time and peak RSS are its own.
//
//   node runner-child.mjs --url URL --dir DIR --n N --concurrency C [--no-lock]
//
// Prints {"ok","failed","errors","maxRssKb"} on stdout; exit 1 if any tenant failed.
import { parseArgs } from 'node:util';
import { runner } from 'node-pg-migrate';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    dir: { type: 'string' },
    n: { type: 'string' },
    concurrency: { type: 'string', default: '1' },
    'no-lock': { type: 'boolean', default: false },
  },
});
const n = Number(values.n);
const concurrency = Number(values.concurrency);
const schemaOf = (i) => `t_${String(i).padStart(5, '0')}`;

/** The options a user passes, matching the CLI's defaults (one transaction per tenant). */
const optionsFor = (schema) => ({
  databaseUrl: values.url,
  dir: values.dir,
  schema,
  createSchema: true,
  migrationsTable: 'pgmigrations',
  direction: 'up',
  singleTransaction: true,
  checkOrder: true,
  noLock: values['no-lock'],
  log: () => {},
});

let next = 1;
let ok = 0;
const errors = [];

async function worker() {
  while (next <= n) {
    const schema = schemaOf(next++);
    try {
      await runner(optionsFor(schema));
      ok++;
    } catch (e) {
      errors.push(`${schema}: ${e.message.split('\n')[0]}`);
    }
  }
}

await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
const maxRssKb = process.resourceUsage().maxRSS;
process.stdout.write(`${JSON.stringify({ ok, failed: errors.length, errors: errors.slice(0, 5), maxRssKb })}\n`);
process.exitCode = errors.length ? 1 : 0;
