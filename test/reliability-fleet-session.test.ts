import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';

// Fleet workers reuse one connection from tenant to tenant: whatever one
// tenant's migration leaves on the session must be gone before the next.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** Fails the migration when the session still holds anything a previous tenant's run could have left. */
const ASSERT_CLEAN = `DO $$
DECLARE held text;
BEGIN
  SELECT concat_ws(', ',
    (SELECT 'cursors ' || string_agg(name, ' ') FROM pg_cursors),
    (SELECT 'prepared ' || string_agg(name, ' ') FROM pg_prepared_statements WHERE from_sql),
    (SELECT 'listening ' || string_agg(c, ' ') FROM pg_listening_channels() c),
    (SELECT 'advisory lock' FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory' AND objid = 4242 LIMIT 1),
    (SELECT 'temp ' || string_agg(relname, ' ') FROM pg_class WHERE relnamespace = pg_my_temp_schema()),
    (SELECT 'settings ' || string_agg(name, ' ') FROM pg_settings WHERE source = 'session' AND name NOT IN ('search_path', 'statement_timeout', 'lock_timeout')),
    (SELECT 'read only' WHERE current_setting('default_transaction_read_only') = 'on')) INTO held;
  IF held <> '' THEN RAISE EXCEPTION 'session carried over from another tenant: %', held; END IF;
END $$;`;

/** Everything a migration can leave on its session beyond its transaction. */
const LEAK = `DECLARE leak_c CURSOR WITH HOLD FOR SELECT current_setting('search_path');
PREPARE leak_p AS SELECT 1;
LISTEN leak_channel;
SELECT pg_advisory_lock(4242);
CREATE TEMP TABLE leak_t ON COMMIT PRESERVE ROWS AS SELECT 1 AS x;
SET application_name = 'leak';
SET datestyle = 'SQL, DMY';
SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;`;

describe('fleet workers between tenants', () => {
  it("migrate with one worker: no tenant sees what the previous tenant's migration left on the session", async () => {
    const project = scratchProject();
    const cli = cliOn(db.url, { cwd: project.dir });
    const ids = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6'];
    expect((await cli(['tenant', 'create', ...ids])).code).toBe(0);
    project.add('1800000000001_leaky', `${ASSERT_CLEAN}\n${LEAK}`);
    const r = await cli(['migrate', '--concurrency', '1', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json<{ summary: { migrated: number } }>().summary.migrated).toBe(ids.length);
    // And the same migration's check would have caught a leak: run on one session twice by hand, it fails.
    const c = await db.pool.connect();
    try {
      await c.query(LEAK.replace('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;', ''));
      await expect(c.query(ASSERT_CLEAN)).rejects.toThrow(
        /session carried over from another tenant: cursors leak_c, prepared leak_p, listening leak_channel, advisory lock, temp leak_t, settings/,
      );
    } finally {
      c.release(true);
    }
  });

  it("exec --all with one worker: each tenant's SQL finds the session clean, whatever the previous tenant's SQL left on it", async () => {
    const cli = cliOn(db.url);
    const ids = ['x1', 'x2', 'x3', 'x4'];
    expect((await cli(['tenant', 'create', ...ids])).code).toBe(0);
    const r = await cli(['exec', '--all', '--concurrency', '1', '-c', `${ASSERT_CLEAN}\n${LEAK}`, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const tenants = r.json<{ tenants: { id: string; status: string }[] }>().tenants;
    expect(tenants.filter((t) => ids.includes(t.id)).map((t) => t.status)).toEqual(ids.map(() => 'done'));
  });
});
