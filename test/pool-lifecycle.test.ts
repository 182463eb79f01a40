import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';

// The pool as a user sees it: fill, status, hidden spares, create taking one (or building), migrate, verify.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

interface Created {
  tenants: { id: string; status: string; method: string }[];
}
interface Status {
  pool: { spares: number; atHead: number; captured: boolean; renameSafe: boolean };
}

function project(name: string) {
  const proj = scratchProject();
  writeFileSync(
    `${proj.dir}/tenantctl.config.json`,
    JSON.stringify({ controlSchema: `ctl_${name}`, schemaPrefix: `${name}_`, sharedSchema: `${name}_shared` }),
  );
  return { proj, cli: cliOn(db.url, { cwd: proj.dir }) };
}

describe('tenant pool', () => {
  it('keeps N spares hidden; create takes them, then builds; a new migration waits for migrate', async () => {
    const { proj, cli } = project('life');
    expect((await cli(['tenant', 'pool', 'status', '--json'])).json<Status>().pool).toMatchObject({
      spares: 0,
      atHead: 0,
      captured: false,
    });
    const fill = await cli(['tenant', 'pool', 'fill', '3']);
    expect(fill.code, fill.stderr).toBe(0);
    expect(fill.stdout).toContain('3 spares made; 3 spares at the head');
    expect((await cli(['tenant', 'pool', 'fill', '3', '--json'])).json<{ spares: unknown[] }>().spares).toEqual([]);
    expect((await cli(['tenant', 'pool', 'status', '--json'])).json<Status>().pool).toMatchObject({
      spares: 3,
      atHead: 3,
      captured: true,
      renameSafe: true,
    });

    expect((await cli(['tenant', 'list', '--json'])).json<{ tenants: unknown[] }>().tenants).toEqual([]);
    const all = (await cli(['tenant', 'list', '--pooled', '--json'])).json<{ tenants: { id: string; pooled?: boolean }[] }>().tenants;
    expect(all).toHaveLength(3);
    expect(all.every((t) => t.pooled === true && t.id.startsWith('pool_'))).toBe(true);
    const shown = await cli(['tenant', 'show', all[0]!.id]);
    expect(shown.code).toBe(2);
    expect(shown.stderr).toContain('unknown tenant');
    // Commands naming a spare skip it as unknown: nothing is changed on it.
    const updated = await cli(['tenant', 'update', all[0]!.id, '--name', 'mine']);
    expect(updated.code).toBe(2);
    expect(updated.stderr).toContain('unknown tenant');
    expect((await db.pool.query(`SELECT name FROM ctl_life.tenants WHERE id = $1`, [all[0]!.id])).rows[0].name).toBeNull();

    const first = (await cli(['tenant', 'create', 'acme', 'globex', '--name', 'Acme', '--set', 'plan=gold', '--json'])).json<Created>();
    expect(first.tenants.map((t) => [t.id, t.status, t.method])).toEqual([
      ['acme', 'created', 'pool'],
      ['globex', 'created', 'pool'],
    ]);
    const acme = (await cli(['tenant', 'show', 'acme', '--json'])).json<{ tenant: Record<string, unknown> }>().tenant;
    expect(acme).toMatchObject({
      id: 'acme',
      schema: 'life_acme',
      key: 'acme',
      name: 'Acme',
      config: { plan: 'gold' },
      applied: 9,
      pending: 0,
    });
    expect(String(acme.role)).toMatch(/^tc\d+_acme$/);
    const schemas = await db.pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'life\\_%' ORDER BY 1`);
    expect(schemas.rows.map((r) => r.nspname)).toEqual(expect.arrayContaining(['life_acme', 'life_globex']));
    expect((await db.pool.query(`SELECT rolname FROM pg_roles WHERE rolname = $1`, [acme.role])).rowCount).toBe(1);
    const log = await db.pool.query(`SELECT detail FROM ctl_life.operations WHERE tenant_id = 'acme' AND operation = 'create'`);
    expect(String(log.rows[0].detail.fromPool)).toMatch(/^pool_/);

    // One spare left: one of the next two creates (made at once: either) takes it, the other builds from the template.
    const more = (await cli(['tenant', 'create', 'initech', 'hooli', '--json'])).json<Created>();
    expect(more.tenants.map((t) => t.method).sort()).toEqual(['pool', 'template']);
    expect((await cli(['tenant', 'pool', 'status', '--json'])).json<Status>().pool).toMatchObject({ spares: 0, atHead: 0 });

    // A spare made before a new migration is behind: not taken until migrate brings it to the head.
    expect((await cli(['tenant', 'pool', 'fill', '1'])).code).toBe(0);
    proj.add('1700000300000_notes', 'CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL);');
    expect((await cli(['tenant', 'pool', 'status', '--json'])).json<Status>().pool).toMatchObject({ spares: 1, atHead: 0 });
    expect((await cli(['tenant', 'create', 'wayne', '--json'])).json<Created>().tenants[0]!.method).toBe('template');
    const migrated = await cli(['migrate', '--json']);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(
      migrated
        .json<{ tenants: { id: string; status: string }[] }>()
        .tenants.filter((t) => t.status === 'migrated')
        .map((t) => t.id),
    ).toContainEqual(expect.stringMatching(/^pool_/));
    expect((await cli(['tenant', 'pool', 'status', '--json'])).json<Status>().pool).toMatchObject({ spares: 1, atHead: 1 });
    expect((await cli(['tenant', 'create', 'stark', '--json'])).json<Created>().tenants[0]!.method).toBe('pool');
    expect((await db.pool.query(`SELECT to_regclass('life_stark.notes') IS NOT NULL AS ok`)).rows[0].ok).toBe(true);

    // verify: no finding on any tenant, spares included.
    expect((await cli(['tenant', 'pool', 'fill', '2'])).code).toBe(0);
    const v = await cli(['verify', '--json']);
    expect(v.code, v.stdout).toBe(0);
    expect(v.json<{ violations: unknown[] }>().violations).toEqual([]);
    expect(v.json<{ tenants: unknown[] }>().tenants).toHaveLength(8);
  });

  it('racing creates never take the same spare', async () => {
    const { cli } = project('race');
    expect((await cli(['tenant', 'pool', 'fill', '2'])).code).toBe(0);
    const runs = await Promise.all(['r1', 'r2', 'r3', 'r4'].map((id) => cli(['tenant', 'create', id, '--json'])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const methods = runs.map((r) => r.json<Created>().tenants[0]!.method).sort();
    expect(methods).toEqual(['pool', 'pool', 'template', 'template']);
    const rows = await db.pool.query(`SELECT id, schema_name, pooled FROM ctl_race.tenants ORDER BY id`);
    expect(rows.rows).toEqual(['r1', 'r2', 'r3', 'r4'].map((id) => ({ id, schema_name: `race_${id}`, pooled: false })));
    const journals = await db.pool.query(
      `SELECT t.id, count(*)::int AS n FROM ctl_race.tenant_migrations m JOIN ctl_race.tenants t ON t.journal_id = m.tenant_id GROUP BY 1 ORDER BY 1`,
    );
    expect(journals.rows).toEqual(['r1', 'r2', 'r3', 'r4'].map((id) => ({ id, n: 9 })));
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM ctl_race.tenant_migrations`)).rows[0].n).toBe(4 * 9);
  });

  it("taking a spare leaves its journal rows as they are; migrate and migrate down then write them as the tenant's", async () => {
    const { proj, cli } = project('keep');
    expect((await cli(['tenant', 'pool', 'fill', '1'])).code).toBe(0);
    const spare = (await cli(['tenant', 'list', '--pooled', '--json'])).json<{ tenants: { id: string }[] }>().tenants[0]!.id;
    // xmin and ctid change when a row is rewritten: the same values after the take mean the same row versions.
    const journal = async (id: string) =>
      (
        await db.pool.query(
          `SELECT m.name, m.checksum, m.run_on, m.xmin::text AS xmin, m.ctid::text AS ctid
             FROM ctl_keep.tenant_migrations m JOIN ctl_keep.tenants t ON t.journal_id = m.tenant_id WHERE t.id = $1 ORDER BY m.name`,
          [id],
        )
      ).rows;
    const before = await journal(spare);
    expect(before.length).toBeGreaterThan(0);
    expect((await cli(['tenant', 'create', 'kept', '--json'])).json<Created>().tenants[0]!.method).toBe('pool');
    expect(await journal('kept')).toEqual(before);
    expect(await journal(spare)).toEqual([]);
    const list = async () =>
      (await cli(['tenant', 'list', '--pooled', '--json'])).json<{ tenants: { id: string; applied: number; pending: number }[] }>().tenants;
    expect((await list()).map((t) => [t.id, t.applied, t.pending])).toEqual([['kept', before.length, 0]]);

    proj.add('1700000300000_notes', '-- Up Migration\nCREATE TABLE notes (id bigint PRIMARY KEY);\n-- Down Migration\nDROP TABLE notes;\n');
    expect((await cli(['migrate'])).code).toBe(0);
    expect((await list()).map((t) => [t.id, t.applied, t.pending])).toEqual([['kept', before.length + 1, 0]]);
    const down = await cli(['migrate', 'down', '--tenant', 'kept']);
    expect(down.code, down.stderr).toBe(0);
    expect((await list()).map((t) => [t.id, t.applied, t.pending])).toEqual([['kept', before.length, 1]]);
    expect(await journal('kept')).toEqual(before);
  });

  it('--replay ignores the pool; a bad count is a usage error', async () => {
    const { cli } = project('flag');
    expect((await cli(['tenant', 'pool', 'fill', '1'])).code).toBe(0);
    expect((await cli(['tenant', 'create', 'slow', '--replay', '--json'])).json<Created>().tenants[0]!.method).toBe('replay');
    expect((await cli(['tenant', 'pool', 'status', '--json'])).json<Status>().pool.atHead).toBe(1);
    const bad = await cli(['tenant', 'pool', 'fill', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('needs a count of 0 or more');
  });
});
