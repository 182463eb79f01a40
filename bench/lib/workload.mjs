// The benchmark workload (lib/workload-migrations.mjs) written out as files, and the scripts
// derived from it: migration folders holding the first K migrations, psql scripts for untimed
// setup and for the floors.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDatabase, dropDatabase, quoteIdent, schemaCounts, withClient } from './pg.mjs';
import { migrationFileBase, migrations } from './workload-migrations.mjs';

// Schema names: the alternatives use t_00001, tenantctl gets ids t00001 and makes schemas
// tenant_t00001 from them.
export const npmSchema = (i) => `t_${String(i).padStart(5, '0')}`;
export const NPM_SCHEMA_RE = '^t_[0-9]{5,}$';
export const tenantId = (i) => `t${String(i).padStart(5, '0')}`;
export const TENANTCTL_PREFIX = 'tenant_';
export const TENANTCTL_SCHEMA_RE = '^tenant_t[0-9]{5,}$';

const statements = (list) => list.map((s) => `${s};\n`).join('');

/**
 * Writes the workload as node-pg-migrate SQL migrations (-- Up / -- Down Migration) into
 * workDir/workload/node-pg-migrate, usable as a tenant migrations folder as they are, and
 * returns its layout.
 */
export function generateWorkload(workDir) {
  const npmDir = join(workDir, 'workload', 'node-pg-migrate');
  rmSync(npmDir, { recursive: true, force: true });
  mkdirSync(npmDir, { recursive: true });
  const files = migrations.map((m, i) => {
    const file = `${migrationFileBase(i)}.sql`;
    writeFileSync(join(npmDir, file), `-- Up Migration\n${statements(m.up)}\n-- Down Migration\n${statements(m.down)}`);
    return file;
  });
  const emptyShared = join(workDir, 'shared-migrations-empty');
  mkdirSync(emptyShared, { recursive: true });
  return {
    npmDir,
    files,
    names: files.map((f) => f.replace(/\.sql$/, '')),
    emptyShared,
    workDir,
  };
}

/** A node-pg-migrate folder with the first k migrations of the workload (k = all: the generated folder). */
export function migrationsDir(wl, k) {
  if (k === wl.files.length) return wl.npmDir;
  const dir = join(wl.workDir, `migrations-first-${k}`);
  mkdirSync(dir, { recursive: true });
  for (const f of wl.files.slice(0, k)) copyFileSync(join(wl.npmDir, f), join(dir, f));
  return dir;
}

/** The plain up-DDL of migrations [from, to) as one text. */
export function ddl(wl, from, to) {
  return migrations
    .slice(from, to)
    .map((m, j) => `-- ${wl.files[from + j]}\n${statements(m.up)}`)
    .join('');
}

const PGMIGRATIONS_DDL = 'CREATE TABLE pgmigrations (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);\n';

/**
 * Setup for the alternatives: tenants 1..n at migration k, each with the pgmigrations table
 * node-pg-migrate v9 would have written (id serial, name varchar(255), run_on timestamp; one row per
 * migration). Split into `jobs` scripts, one transaction per tenant, to run in parallel.
 */
export function writeNpmSetupScripts(wl, n, k, jobs) {
  const body = ddl(wl, 0, k);
  const values = wl.names
    .slice(0, k)
    .map((name) => `('${name}', now())`)
    .join(', ');
  const scripts = Array.from({ length: jobs }, () => []);
  for (let i = 1; i <= n; i++) {
    const s = npmSchema(i);
    scripts[i % jobs].push(
      `BEGIN;\nCREATE SCHEMA ${s};\nSET LOCAL search_path TO ${s};\n${body}${PGMIGRATIONS_DDL}` +
        (k > 0 ? `INSERT INTO pgmigrations (name, run_on) VALUES ${values};\n` : '') +
        'COMMIT;\n',
    );
  }
  return scripts
    .filter((s) => s.length > 0)
    .map((parts, j) => {
      const file = join(wl.workDir, `setup-npm-n${n}-k${k}-${j}.sql`);
      writeFileSync(file, parts.join(''));
      return file;
    });
}

/** Scenario 1's floor: every migration for tenants 1..n, one transaction each, one psql session. */
export function writeFloorFreshScript(wl, n) {
  const body = ddl(wl, 0, wl.files.length);
  const parts = [];
  for (let i = 1; i <= n; i++) {
    const s = npmSchema(i);
    parts.push(`BEGIN;\nCREATE SCHEMA ${s};\nSET LOCAL search_path TO ${s};\n${body}COMMIT;\n`);
  }
  const file = join(wl.workDir, `floor-fresh-n${n}.sql`);
  writeFileSync(file, parts.join(''));
  return file;
}

/** Scenario 2's floor: migrations [from, to) for tenants 1..n, one transaction each, one psql session. */
export function writeFloorDeltaScript(wl, n, from, to) {
  const body = ddl(wl, from, to);
  const parts = [];
  for (let i = 1; i <= n; i++) parts.push(`BEGIN;\nSET LOCAL search_path TO ${npmSchema(i)};\n${body}COMMIT;\n`);
  const file = join(wl.workDir, `floor-n${n}-from${from}-to${to}.sql`);
  writeFileSync(file, parts.join(''));
  return file;
}

/** Scenario 3's floor: nothing to migrate, so one trivial `SELECT 1` per tenant in one psql session. */
export function writeFloorNoopScript(wl, n) {
  const file = join(wl.workDir, `floor-select1-n${n}.sql`);
  writeFileSync(file, 'SELECT 1;\n'.repeat(n));
  return file;
}

/** The loop users write today: node-pg-migrate's CLI once per tenant schema, tenants 1..n. */
export function writeCliLoopScript(wl, repoRoot, dir, n) {
  const bin = join(repoRoot, 'node_modules', '.bin', 'node-pg-migrate');
  const file = join(wl.workDir, `npm-cli-loop-n${n}-${dir.split('/').pop()}.sh`);
  writeFileSync(
    file,
    `#!/usr/bin/env bash
# node-pg-migrate CLI once per tenant; DATABASE_URL comes from the environment.
set -euo pipefail
for ((t = 1; t <= ${n}; t++)); do
  s=$(printf 't_%05d' "$t")
  ${JSON.stringify(bin)} up -m ${JSON.stringify(dir)} --schema "$s" --create-schema --migrations-table pgmigrations -d DATABASE_URL
done
`,
  );
  return file;
}

/**
 * Expected catalog counts after the first k migrations, measured rather than hard-coded: the DDL is
 * applied to a scratch schema per k in a scratch database. Returns Map k -> counts.
 */
export async function expectedCounts(wl, baseUrl, ks) {
  const db = 'bench_reference_counts';
  const url = await createDatabase(baseUrl, db);
  try {
    const result = new Map();
    for (const k of ks) {
      const schema = `ref_k${k}`;
      await withClient(url, (c) =>
        c.query(`BEGIN; CREATE SCHEMA ${quoteIdent(schema)}; SET LOCAL search_path TO ${quoteIdent(schema)};\n${ddl(wl, 0, k)}COMMIT;`),
      );
      const counts = await schemaCounts(url, `^${schema}$`);
      result.set(k, counts.get(schema));
    }
    return result;
  } finally {
    await dropDatabase(baseUrl, db);
  }
}
