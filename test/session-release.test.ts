import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../src/db/connect.js';
import { commit, runTransaction, withSession } from '../src/db/session.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

// A connection goes back to the pool without a second reset only when its last message was a reset that
// checked clean; anything sent after it is reset before the next user gets the connection.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const SETTINGS = { lockTimeout: '5s', statementTimeout: '0', controlSchema: 'tenantctl', sharedSchema: 'shared' };

describe('giving a connection back to the pool', () => {
  it('skips the reset right after a committed reset, and resets whatever ran after it', async () => {
    const stats = { roundTrips: 0 };
    const pool = createPool({ connectionString: db.url, source: 'flag' }, 1, stats);
    try {
      const pid = async () => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const backend = await pid();

      // A transaction whose COMMIT reset the session: releasing it costs no message.
      let before = stats.roundTrips;
      await withSession(pool, (c) => runTransaction(c, SETTINGS, {}, () => c.query('SELECT 1')));
      const afterCommit = stats.roundTrips - before;

      // The same, then a session setting after the COMMIT: releasing it resets, and the next user sees none of it.
      before = stats.roundTrips;
      await withSession(pool, async (c) => {
        await runTransaction(c, SETTINGS, {}, () => c.query('SELECT 1'));
        await c.query(`SET application_name = 'left over'; SET search_path = nowhere`);
      });
      const afterLeftover = stats.roundTrips - before;
      const seen = await pool.query<{ app: string; path: string }>(
        `SELECT current_setting('application_name') AS app, current_setting('search_path') AS path`,
      );

      // A commit that keeps the session (no reset in it) is reset on release too.
      before = stats.roundTrips;
      await withSession(pool, async (c) => {
        await c.query('BEGIN; SET LOCAL search_path = nowhere');
        await commit(c, '', { keepSession: true });
      });
      const afterKept = stats.roundTrips - before;

      expect({ afterCommit, afterLeftover, afterKept, seen: seen.rows[0], same: (await pid()) === backend }).toEqual({
        // BEGIN, the query, COMMIT with the reset.
        afterCommit: 3,
        // ... then the SET, then the reset on release.
        afterLeftover: 5,
        // BEGIN, COMMIT, the reset on release.
        afterKept: 3,
        seen: { app: 'tenantctl', path: '"$user", public' },
        same: true,
      });
    } finally {
      await pool.end();
    }
  });
});
