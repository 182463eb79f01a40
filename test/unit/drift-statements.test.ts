import { describe, expect, it } from 'vitest';
import { MAX_SCHEMAS_PER_STATEMENT, relationsPerStatement, statementGroups, streamsOf } from '../../src/verify/checks/drift/statements.js';

const schemas = (...relations: number[]) => relations.map((n, i) => ({ oid: String(1000 + i), relations: n }));
const sizes = (groups: { relations: number }[][]) => groups.map((g) => g.map((s) => s.relations));

describe("drift's statements over many schemas", () => {
  it('lock half the lock table at most: the default server (64 x 100 slots) gives 3,200 relations a statement', () => {
    expect(relationsPerStatement(64 * 100)).toBe(3200);
    expect(relationsPerStatement(10 * 20)).toBe(100);
    expect(relationsPerStatement(1)).toBe(1);
    expect(relationsPerStatement(0)).toBe(1);
    // two statements side by side share that half
    expect(relationsPerStatement(64 * 100, 2)).toBe(1600);
    expect(relationsPerStatement(10 * 20, 2)).toBe(50);
  });

  it('group schemas in order, each statement within the relations it may lock', () => {
    expect(sizes(statementGroups(schemas(2, 2, 2, 2, 2), 4))).toEqual([[2, 2], [2, 2], [2]]);
    expect(sizes(statementGroups(schemas(3, 1, 4, 0, 2), 4))).toEqual([[3, 1], [4, 0], [2]]);
    // a schema larger than the budget gets a statement of its own, never none
    expect(sizes(statementGroups(schemas(1, 9, 1), 4))).toEqual([[1], [9], [1]]);
    expect(statementGroups([], 4)).toEqual([]);
    const order = statementGroups(schemas(1, 1, 1, 1, 1), 2).flat();
    expect(order.map((s) => s.oid)).toEqual(['1000', '1001', '1002', '1003', '1004']);
  });

  it('never put more than MAX_SCHEMAS_PER_STATEMENT schemas in one statement, however many the lock table allows', () => {
    const many = schemas(...Array.from({ length: 2 * MAX_SCHEMAS_PER_STATEMENT + 1 }, () => 0));
    expect(statementGroups(many, 1_000_000).map((g) => g.length)).toEqual([MAX_SCHEMAS_PER_STATEMENT, MAX_SCHEMAS_PER_STATEMENT, 1]);
  });

  it('split the schemas into streams of about equal work, in order, before each is grouped', () => {
    expect(sizes(streamsOf(schemas(2, 2, 2, 2, 2, 2), 2))).toEqual([
      [2, 2, 2],
      [2, 2, 2],
    ]);
    // a schema weighs its relations and one: 10 + 1 + 1 + 1 against seven of 2
    expect(sizes(streamsOf(schemas(9, 1, 1, 1, 1, 1, 1, 1, 1, 1), 2))).toEqual([
      [9, 1, 1],
      [1, 1, 1, 1, 1, 1, 1],
    ]);
    expect(sizes(streamsOf(schemas(3, 3, 3), 1))).toEqual([[3, 3, 3]]);
    expect(sizes(streamsOf(schemas(5), 2))).toEqual([[5]]);
    expect(streamsOf([], 2)).toEqual([]);
    expect(
      streamsOf(schemas(1, 1, 1, 1, 1), 2)
        .flat()
        .map((s) => s.oid),
    ).toEqual(['1000', '1001', '1002', '1003', '1004']);
    // 1,001 schemas alike, in a lock table that takes 320 a statement: 501 and 500, not 640 and 361
    const fleet = streamsOf(schemas(...Array.from({ length: 1001 }, () => 5)), 2);
    expect(fleet.map((p) => p.length)).toEqual([501, 500]);
    expect(fleet.map((p) => statementGroups(p, 1600).map((g) => g.length))).toEqual([
      [320, 181],
      [320, 180],
    ]);
  });
});
