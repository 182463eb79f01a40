import { describe, expect, it } from 'vitest';
import { chooseMode } from '../../src/tenants/relocate/mode.js';
import { validateRelocateOptions } from '../../src/tenants/relocate/options.js';
import { checksumSql, freezeSql, mismatches } from '../../src/tenants/relocate/tables.js';

const servers = { has: (n: string) => n === 'default' || n === 'eu', names: () => ['default', 'eu'] };

describe('relocate options', () => {
  it('refuses bad input before any connection, one line each', () => {
    expect(() => validateRelocateOptions({ id: 'Bad!', to: 'eu' })).toThrow(/invalid tenant id/);
    expect(() => validateRelocateOptions({ id: 'a1', to: '' })).toThrow(/needs --to SERVER/);
    expect(() => validateRelocateOptions({ id: 'a1', to: 'eu', mode: 'fast' as never })).toThrow(/--mode must be auto, copy or logical/);
    expect(() => validateRelocateOptions({ id: 'a1', to: 'eu', mode: 'logical', blockWrites: true })).toThrow(
      /cannot go with --mode logical/,
    );
    expect(() => validateRelocateOptions({ id: 'a1', to: 'us' }, servers)).toThrow(/no server named "us".*known: default, eu/);
  });

  it('--block-writes is copy mode; auto by default', () => {
    expect(validateRelocateOptions({ id: 'a1', to: 'eu', blockWrites: true }, servers).mode).toBe('copy');
    expect(validateRelocateOptions({ id: 'a1', to: 'eu' }, servers).mode).toBe('auto');
  });

  it('auto copies and says why when logical replication cannot follow the tenant; --mode logical refuses naming it', () => {
    const blockers = ['table audit_log has no replica identity (no primary key, no REPLICA IDENTITY)'];
    expect(chooseMode('auto', [])).toEqual({ mode: 'logical' });
    expect(chooseMode('copy', [])).toEqual({ mode: 'copy' });
    expect(chooseMode('auto', blockers)).toEqual({
      mode: 'copy',
      because: expect.stringMatching(/^copy mode .*audit_log has no replica identity/),
    });
    expect(() => chooseMode('logical', blockers)).toThrow(
      /--mode logical cannot move this tenant: table audit_log has no replica identity/,
    );
  });
});

describe('relocate SQL', () => {
  it('quotes every table it locks and checksums, hashing values only where every column allows it', () => {
    expect(freezeSql('tenant_a"b', ['t1', 'x y'])).toBe('LOCK TABLE "tenant_a""b"."t1", "tenant_a""b"."x y" IN EXCLUSIVE MODE');
    expect(freezeSql('s', [])).toBe('');
    const sql = checksumSql('s', [
      { name: 'fast', columns: ['id'], replicaIdentity: true, hashable: true, binary: true },
      { name: "o'dd", columns: ['p'], replicaIdentity: false, hashable: false, binary: false },
    ]);
    expect(sql).toContain(`'fast'::text AS table`);
    expect(sql).toContain('sum(pg_catalog.hash_record_extended(x, 0))');
    expect(sql).toContain(`'o''dd'::text AS table`);
    expect(sql).toContain('hashtextextended(x::text, 0)');
    expect(sql).toContain('FROM "s"."o\'dd" x');
  });

  it('names every table whose count or contents differ', () => {
    const a = [
      { table: 'a', rows: 2, checksum: '5' },
      { table: 'b', rows: 3, checksum: '7' },
      { table: 'c', rows: 1, checksum: '1' },
    ];
    const b = [
      { table: 'a', rows: 2, checksum: '5' },
      { table: 'b', rows: 3, checksum: '8' },
    ];
    expect(mismatches(a, b)).toEqual(['b has the same 3 rows counted but different contents', 'c is missing on the target']);
    expect(mismatches(a, [...b.slice(0, 1), { table: 'b', rows: 2, checksum: '7' }, a[2]!])).toEqual([
      'b has 3 rows on the source, 2 on the target',
    ]);
    expect(mismatches(a, a)).toEqual([]);
  });
});
