// The timed legs: tenantctl copy and move through the built CLI, and the floor: the same
// INSERT ... SELECT (and DELETE) statements in one psql transaction.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { quoteIdent } from './pg.mjs';
import { TABLES } from './copy-data.mjs';

/**
 * The statements tenantctl runs for a whole-tenant copy, written out for psql: every column
 * but generated ones, the ownership column set to the target's key, identity values kept.
 */
export async function floorStatements(client, { move }) {
  const { rows } = await client.query(
    `SELECT c.relname AS table, array_agg(a.attname::text ORDER BY a.attnum) AS columns, bool_or(a.attidentity <> '') AS identity
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'tenant_src' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
     GROUP BY c.relname`,
  );
  const byTable = new Map(rows.map((r) => [r.table, r]));
  const inserts = TABLES.map((t) => {
    const { columns, identity } = byTable.get(t);
    const values = columns.map((c) => (c === 'tenant_id' ? `'dst'` : `s.${quoteIdent(c)}`));
    return `INSERT INTO tenant_dst.${t} (${columns.map(quoteIdent).join(', ')})${identity ? ' OVERRIDING SYSTEM VALUE' : ''} SELECT ${values.join(', ')} FROM tenant_src.${t} s;`;
  });
  const deletes = move ? [...TABLES].reverse().map((t) => `DELETE FROM tenant_src.${t};`) : [];
  return [...inserts, ...deletes].join('\n');
}

export function legs({ repoRoot, workDir, url, config }) {
  const bin = join(repoRoot, 'bin', 'tenantctl.js');
  const tenantctl = (verb) => ({
    id: `tenantctl-${verb}`,
    label: `tenantctl ${verb}`,
    verb,
    floor: false,
    command: () => [process.execPath, [bin, '--database-url', url, '--config', config, verb, '--from', 'src', '--to', 'dst', '--json']],
  });
  const psql = (verb) => ({
    id: `psql-${verb}`,
    label: `psql ${verb} (floor)`,
    verb,
    floor: true,
    async prepare(client) {
      const file = join(workDir, `floor-${verb}.sql`);
      writeFileSync(file, `${await floorStatements(client, { move: verb === 'move' })}\n`);
      this.file = file;
    },
    command() {
      return ['psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-1', '-f', this.file]];
    },
  });
  return [tenantctl('copy'), psql('copy'), tenantctl('move'), psql('move')];
}
