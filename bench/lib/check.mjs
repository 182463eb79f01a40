// Checking a run's result in the database, not only its exit code.
import { pgmigrationsNames, schemaCounts, withClient } from './pg.mjs';

const fmt = (c) => (c ? `${c.tables} tables/${c.indexes} indexes/${c.fks} fks/${c.columns} columns` : 'missing');
const same = (a, b) => a && b && a.tables === b.tables && a.indexes === b.indexes && a.fks === b.fks && a.columns === b.columns;

/**
 * Every schema matching `pattern` is counted; schemas 1..n (named by nameOf(i)) must exist and
 * each must match expectedFor(i); no other matching schema may exist. Returns a list of problems.
 */
export async function checkSchemas(url, { pattern, nameOf, n, expectedFor }) {
  const counts = await schemaCounts(url, pattern);
  const problems = [];
  const wrong = [];
  for (let i = 1; i <= n; i++) {
    const name = nameOf(i);
    const got = counts.get(name);
    if (!same(got, expectedFor(i))) wrong.push(`${name}: ${fmt(got)}, expected ${fmt(expectedFor(i))}`);
    counts.delete(name);
  }
  if (wrong.length) problems.push(`${wrong.length} of ${n} schemas wrong, e.g. ${wrong.slice(0, 3).join('; ')}`);
  if (counts.size) problems.push(`${counts.size} unexpected schemas, e.g. ${[...counts.keys()].slice(0, 3).join(', ')}`);
  return problems;
}

/** A sample of tenant numbers: first, last, middle and a few spread between. */
export function sample(n, size = 10) {
  const picks = new Set([1, n, Math.ceil(n / 2)]);
  for (let j = 1; picks.size < Math.min(size, n); j++) picks.add(1 + Math.floor(((n - 1) * j * 0.618034) % n));
  return [...picks].filter((i) => i >= 1 && i <= n).sort((a, b) => a - b);
}

/** node-pg-migrate's pgmigrations in a sample of schemas must list exactly the expected names. */
export async function checkPgmigrations(url, { nameOf, n, namesFor }) {
  return withClient(url, async (client) => {
    const problems = [];
    for (const i of sample(n)) {
      const schema = nameOf(i);
      let got;
      try {
        got = await pgmigrationsNames(client, schema);
      } catch (e) {
        problems.push(`${schema}.pgmigrations: ${e.message}`);
        continue;
      }
      const want = namesFor(i);
      if (got.join() !== want.join())
        problems.push(
          `${schema}.pgmigrations has ${got.length} rows (last ${got.at(-1) ?? '-'}), expected ${want.length} (last ${want.at(-1) ?? '-'})`,
        );
    }
    return problems;
  });
}
