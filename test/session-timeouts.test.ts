import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('every transaction gets the configured timeouts', () => {
  it('a shared migration queued behind an application lock gives up after lockTimeout (exit 3) instead of waiting', async () => {
    const p = scratchProject();
    dir = p.dir;
    writeFileSync(join(p.dir, 'tenantctl.config.json'), JSON.stringify({ lockTimeout: '300ms' }));
    const cli = cliOn(db.url, { cwd: p.dir });
    expect((await cli(['init'])).code).toBe(0);
    writeFileSync(join(p.shared, '1700000000500_plans_note.sql'), '-- Up Migration\nALTER TABLE plans ADD COLUMN note text;\n');
    const app = new pg.Client({ connectionString: db.url });
    await app.connect();
    try {
      await app.query('BEGIN');
      await app.query('LOCK TABLE public.plans IN ACCESS SHARE MODE');
      // Without the timeout this would wait for as long as the application holds its lock (here: ever).
      const r = await cli(['init']);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/lock timeout/);
      const journal = await db.pool.query(
        `SELECT count(*)::int AS n FROM tenantctl.shared_migrations WHERE name = '1700000000500_plans_note'`,
      );
      expect(journal.rows[0].n).toBe(0);
    } finally {
      await app.query('ROLLBACK');
      await app.end();
    }
    expect((await cli(['init'])).code).toBe(0);
  });
});
