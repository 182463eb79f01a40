import { describe, expect, it } from 'vitest';
import { asTenantSql, beginSql, SESSION_RESET, tenantSearchPath } from '../../src/db/session.js';
import { tenantLockKeys } from '../../src/db/locks.js';
import { blame, type Batch } from '../../src/migrations/builder.js';

const settings = { controlSchema: 'tenantctl', sharedSchema: 'public', lockTimeout: '5s', statementTimeout: '10min' };

describe('beginSql', () => {
  it('a try-lock transaction: BEGIN, timeouts and the lock in one message', () => {
    const b = beginSql(settings, { lock: { ids: ['acme'] } });
    expect(b.sessionLocks).toBe('');
    expect(b.text).toBe(
      "BEGIN; SET LOCAL statement_timeout = '10min'; SELECT pg_try_advisory_xact_lock(hashtext('tenantctl:tenantctl'), hashtext('acme')) AS tc_locked; SET LOCAL lock_timeout = '5s'",
    );
    expect(b.lockChecks).toEqual(['acme']);
    expect(b.before).toBe(4);
  });

  it('waiting turns lock_timeout off while it waits, then sets it', () => {
    const b = beginSql(settings, { lock: { ids: ['b', 'a'], wait: true } });
    expect(b.text).toBe(
      "BEGIN; SET LOCAL statement_timeout = '10min'; SET LOCAL lock_timeout = '0'; SELECT pg_advisory_xact_lock(hashtext('tenantctl:tenantctl'), hashtext('a')); SELECT pg_advisory_xact_lock(hashtext('tenantctl:tenantctl'), hashtext('b')); SET LOCAL lock_timeout = '5s'",
    );
    expect(b.lockChecks).toEqual([]);
  });

  it('session locks go in a message of their own, before BEGIN ISOLATION LEVEL', () => {
    const b = beginSql(settings, { isolation: 'repeatable read', lock: { ids: ['x'], session: true } });
    expect(b.sessionLocks).toBe("SELECT pg_try_advisory_lock(hashtext('tenantctl:tenantctl'), hashtext('x')) AS tc_locked");
    expect(b.text).toBe("BEGIN ISOLATION LEVEL REPEATABLE READ; SET LOCAL statement_timeout = '10min'; SET LOCAL lock_timeout = '5s'");
  });

  it('the control lock and a read-only transaction; empty timeouts leave the server settings alone', () => {
    expect(beginSql(settings, { controlLock: true }).text).toBe(
      "BEGIN; SET LOCAL statement_timeout = '10min'; SET LOCAL lock_timeout = '0'; SELECT pg_advisory_xact_lock(hashtext('tenantctl-control:tenantctl'), 0); SET LOCAL lock_timeout = '5s'",
    );
    expect(beginSql({ ...settings, lockTimeout: '', statementTimeout: '' }, { readOnly: true }).text).toBe('BEGIN READ ONLY');
  });

  it('quotes what it inlines', () => {
    expect(tenantLockKeys("we'ird", "o'id")).toBe("hashtext('tenantctl:we''ird'), hashtext('o''id')");
    expect(tenantSearchPath('tenant_a', 'public')).toBe('"tenant_a", "public", pg_temp');
    expect(asTenantSql(settings, { schema: 'tenant_a', id: 'a', key: "k'1" })).toBe(
      `SELECT set_config('search_path', '"tenant_a", "public", pg_temp', true), set_config('tenantctl.tenant_id', 'a', true), set_config('tenantctl.tenant_key', 'k''1', true)`,
    );
  });

  it('the reset drops what DISCARD ALL drops, in statements that may follow COMMIT', () => {
    for (const part of [
      'CLOSE ALL',
      'DEALLOCATE ALL',
      'RESET SESSION AUTHORIZATION',
      'RESET ALL',
      'UNLISTEN *',
      'pg_advisory_unlock_all()',
      'DISCARD TEMP',
      'DISCARD SEQUENCES',
      'DISCARD PLANS',
    ]) {
      expect(SESSION_RESET).toContain(part);
    }
    expect(SESSION_RESET).not.toContain('DISCARD ALL');
  });
});

describe('blame', () => {
  const batch: Batch = {
    text: 'SELECT 1;\nCREATE TABLE a (id int);\nALTER TABLE b\n  ADD c int;',
    segments: [
      { name: '001_a', start: 10, end: 34 },
      { name: '002_b', start: 35, end: 59 },
    ],
  };

  it('names the migration the error position falls in, with its line and column', () => {
    const at = batch.text.indexOf('ADD') + 1;
    const f = blame(batch, Object.assign(new Error('x'), { position: String(at) }));
    expect(f.migration).toBe('002_b');
    expect(f.position).toEqual({ line: 2, column: 3 });
  });

  it('names nothing for a position outside every migration, or no position in a batch of several', () => {
    expect(blame(batch, Object.assign(new Error('x'), { position: '3' })).migration).toBeUndefined();
    expect(blame(batch, new Error('x')).migration).toBeUndefined();
  });

  it('names the only migration of a batch when the server gives no position', () => {
    expect(blame({ text: 'x', segments: [{ name: 'only', start: 0, end: 1 }] }, new Error('x')).migration).toBe('only');
  });
});
