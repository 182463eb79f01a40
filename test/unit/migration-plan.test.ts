import { describe, expect, it } from 'vitest';
import { planDown, planUp } from '../../src/migrations/plan.js';
import type { LoadedMigration } from '../../src/migrations/types.js';

const file = (name: string, checksum = `sum-${name}`): LoadedMigration => ({ name, path: `/m/${name}.sql`, checksum });
const ran = (name: string, checksum = `sum-${name}`) => ({ name, checksum });
const names = (list: readonly LoadedMigration[]) => list.map((m) => m.name);

const FILES = [file('001_a'), file('002_b'), file('003_c'), file('004_d')];

describe('planUp: what a tenant still needs', () => {
  it('a new tenant needs every file, in file order', () => {
    const plan = planUp(FILES, []);
    expect(names(plan.pending)).toEqual(['001_a', '002_b', '003_c', '004_d']);
    expect(plan).toMatchObject({ missing: [], changed: [], outOfOrder: undefined });
  });

  it('a tenant at the head needs nothing', () => {
    const plan = planUp(
      FILES,
      FILES.map((f) => ran(f.name)),
    );
    expect(plan).toEqual({ pending: [], missing: [], changed: [], outOfOrder: undefined });
  });

  it('stops at the target, inclusive', () => {
    expect(names(planUp(FILES, [ran('001_a')], 2).pending)).toEqual(['002_b', '003_c']);
    expect(names(planUp(FILES, [ran('001_a')], 0).pending)).toEqual([]);
  });

  it('reports journal entries whose file is gone, and files changed since they ran', () => {
    const plan = planUp(FILES, [ran('000_gone'), ran('001_a', 'old-sum'), ran('002_b')]);
    expect(plan.missing).toEqual(['000_gone']);
    expect(plan.changed).toEqual(['001_a']);
    expect(names(plan.pending)).toEqual(['003_c', '004_d']);
  });

  it('flags a pending file that sorts before an applied one, naming both', () => {
    const plan = planUp(FILES, [ran('001_a'), ran('003_c')]);
    expect(names(plan.pending)).toEqual(['002_b', '004_d']);
    expect(plan.outOfOrder).toEqual({ pending: '002_b', applied: '003_c' });
  });

  it('a gap after the last applied file is not out of order', () => {
    expect(planUp(FILES, [ran('001_a'), ran('002_b')]).outOfOrder).toBeUndefined();
  });
});

describe('planDown: what a rollback reverts, newest first', () => {
  const journal = [ran('001_a'), ran('002_b'), ran('003_c')];

  it('reverts the last applied migration by default', () => {
    expect(names(planDown(FILES, journal, {}).revert)).toEqual(['003_c']);
  });

  it('reverts the last N with count, never more than were applied', () => {
    expect(names(planDown(FILES, journal, { count: 2 }).revert)).toEqual(['003_c', '002_b']);
    expect(names(planDown(FILES, journal, { count: 10 }).revert)).toEqual(['003_c', '002_b', '001_a']);
  });

  it('reverts everything after toName and keeps toName itself', () => {
    expect(names(planDown(FILES, journal, { toName: '001_a' }).revert)).toEqual(['003_c', '002_b']);
    expect(planDown(FILES, journal, { toName: '003_c' })).toEqual({ revert: [] });
  });

  it('refuses a toName that is not applied, and says what to use instead', () => {
    const plan = planDown(FILES, journal, { toName: '004_d' });
    expect(plan.revert).toEqual([]);
    expect(plan.error).toBe('migration 004_d is not applied to this tenant, so there is nothing to roll back to; use --count');
  });

  it('refuses when an applied migration has lost its file, naming it', () => {
    const plan = planDown(FILES, [...journal, ran('009_gone')], { count: 1 });
    expect(plan.revert).toEqual([]);
    expect(plan.error).toBe('migration 009_gone is applied but its file is missing; put the file back to roll back');
  });

  it('a tenant with nothing applied has nothing to revert', () => {
    expect(planDown(FILES, [], {})).toEqual({ revert: [] });
  });
});
