// A move on Citus from a tenant the application keeps writing to (through the coordinator): the move
// completes, the writer's transactions all commit, and every row ends up in exactly one place.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from '../support/cli.js';
import { citusProject, createCitusDatabase, type CitusDatabase } from './support.js';

let db: CitusDatabase;
let project: { dir: string; remove(): void };
const cli = (args: string[]) => cliOn(db.url, { cwd: project.dir })(args);
const ORIGINAL = 300;

beforeAll(async () => {
  db = await createCitusDatabase();
  project = citusProject();
  expect((await cli(['init'])).code).toBe(0);
  const created = await cli(['tenant', 'create', 'src', 'dst']);
  expect(created.code, created.stdout + created.stderr).toBe(0);
  await db.pool.query(`BEGIN;
    INSERT INTO tenant_src.customers (id, tenant_id, name) OVERRIDING SYSTEM VALUE SELECT g, 'src', 'c' || g FROM generate_series(1, ${ORIGINAL}) g;
    SELECT setval(pg_get_serial_sequence('tenant_src.customers', 'id'), ${ORIGINAL});
    INSERT INTO tenant_src.projects (tenant_id, customer_id, name) SELECT 'src', g, 'p' || g FROM generate_series(1, ${ORIGINAL}) g;
    COMMIT`);
});

afterAll(async () => {
  await db?.drop();
  project?.remove();
});

/** The application: every 5 ms, one transaction that updates an original customer and inserts a new one with a project; call the result to stop it. */
function startWriter() {
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  pool.on('error', () => undefined);
  const inserted: number[] = [];
  const errors: string[] = [];
  let running = true;
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const tick = new Promise((resolve) => setTimeout(resolve, 5));
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(`UPDATE tenant_src.customers SET email = $1 WHERE id = $2`, [`w${n}@example.com`, 1 + ((n * 37) % ORIGINAL)]);
        const row = await c.query<{ id: string }>(`INSERT INTO tenant_src.customers (tenant_id, name) VALUES ('src', $1) RETURNING id`, [
          `live${n}`,
        ]);
        await c.query(`INSERT INTO tenant_src.projects (tenant_id, customer_id, name) VALUES ('src', $1, $2)`, [
          row.rows[0]!.id,
          `live${n}`,
        ]);
        await c.query('COMMIT');
        inserted.push(Number(row.rows[0]!.id));
      } catch (err) {
        errors.push((err as Error).message);
        await c.query('ROLLBACK');
      } finally {
        c.release();
      }
      await tick; // pacing of the writer, not synchronisation
    }
  })();
  // What the application committed, once it has stopped.
  return async () => {
    running = false;
    await loop;
    await pool.end();
    return { inserted, errors };
  };
}

describe('a move on Citus under live writes', () => {
  it('moves exactly the selected customers and their projects; every write of the application commits and stays in the source', async () => {
    const stopWriter = startWriter();
    const r = await cli(['move', '--from', 'src', '--to', 'dst', '--table', 'customers', '--where', `id <= ${ORIGINAL}`, '--json']);
    const writer = await stopWriter();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(writer.errors).toEqual([]);
    expect(writer.inserted.length).toBeGreaterThan(0);
    const out = r.json<{ tables: { table: string; rows: number; deleted: number }[] }>();
    expect(out.tables.find((t) => t.table === 'customers')).toMatchObject({ rows: ORIGINAL, deleted: ORIGINAL });
    expect(out.tables.find((t) => t.table === 'projects')).toMatchObject({ rows: ORIGINAL, deleted: ORIGINAL });
    const ids = async (schema: string) =>
      (await db.pool.query<{ id: string }>(`SELECT id FROM ${schema}.customers ORDER BY id`)).rows.map((row) => Number(row.id));
    expect(await ids('tenant_dst')).toEqual(Array.from({ length: ORIGINAL }, (_, i) => i + 1));
    expect(await ids('tenant_src')).toEqual([...writer.inserted].sort((a, b) => a - b));
    const projects = await db.pool.query<{ src: number; dst: number }>(
      `SELECT (SELECT count(*)::int FROM tenant_src.projects) AS src, (SELECT count(*)::int FROM tenant_dst.projects) AS dst`,
    );
    expect(projects.rows[0]).toEqual({ src: writer.inserted.length, dst: ORIGINAL });
  });
});
