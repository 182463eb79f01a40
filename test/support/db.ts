import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';

export interface TestDatabase {
  name: string;
  url: string;
  /** A pool on the test database, for assertions against the catalog. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh database on the test server; drop() removes it and the server-wide roles its tenants made. */
export async function createTestDatabase(adminUrl: string = inject('adminUrl')): Promise<TestDatabase> {
  const name = `tc_test_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const oid = (await admin.query<{ oid: number }>('SELECT oid::int AS oid FROM pg_database WHERE datname = $1', [name])).rows[0]!.oid;
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      const roles = await c.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE rolname LIKE $1`, [`tc${oid}\\_%`]);
      // Tenant roles first: they are members of the shared role.
      const names = roles.rows.map((r) => r.rolname);
      for (const role of [...names.filter((n) => !n.endsWith('__shared')), ...names.filter((n) => n.endsWith('__shared'))]) {
        await c.query(`DROP ROLE IF EXISTS "${role}"`);
      }
      await c.end();
    },
  };
}

/** A fresh database on the second test server (another PostgreSQL), for fleets over several servers. */
export function createSecondDatabase(): Promise<TestDatabase> {
  return createTestDatabase(inject('secondAdminUrl'));
}

/**
 * A fresh database on each of the two test servers for the calling test file, made before its
 * tests and dropped after them; `set` receives them (home first).
 */
export function twoServers(set: (home: TestDatabase, eu: TestDatabase) => void): void {
  let made: TestDatabase[] = [];
  beforeAll(async () => {
    made = await Promise.all([createTestDatabase(), createSecondDatabase()]);
    set(made[0]!, made[1]!);
  });
  afterAll(async () => {
    await Promise.all(made.map((d) => d.drop()));
  });
}
