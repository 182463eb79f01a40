import { describe, expect, it } from 'vitest';
import { insertOrder, withAncestors, withDescendants } from '../../src/copy/graph.js';

const e = (child: string, parent: string) => ({ child, parent });

describe('the foreign-key graph of a copy', () => {
  it('orders parents first, ties by name', () => {
    const edges = [e('projects', 'customers'), e('tasks', 'projects'), e('invoices', 'customers')];
    expect(insertOrder(['tasks', 'projects', 'invoices', 'customers'], edges)).toEqual([
      { tables: ['customers'], cyclic: false },
      { tables: ['invoices'], cyclic: false },
      { tables: ['projects'], cyclic: false },
      { tables: ['tasks'], cyclic: false },
    ]);
  });

  it('groups a cycle, marks self references, and keeps the rest in order around them', () => {
    const edges = [
      e('teams', 'members'),
      e('members', 'teams'),
      e('members', 'members'),
      e('badges', 'members'),
      e('members', 'orgs'),
      e('orgs', 'orgs'),
    ];
    expect(insertOrder(['badges', 'members', 'orgs', 'teams'], edges)).toEqual([
      { tables: ['orgs'], cyclic: true },
      { tables: ['members', 'teams'], cyclic: true },
      { tables: ['badges'], cyclic: false },
    ]);
  });

  it('finds a longer cycle through several tables', () => {
    const edges = [e('a', 'b'), e('b', 'c'), e('c', 'a'), e('d', 'c')];
    expect(insertOrder(['d', 'c', 'b', 'a'], edges)).toEqual([
      { tables: ['a', 'b', 'c'], cyclic: true },
      { tables: ['d'], cyclic: false },
    ]);
  });

  it('ignores edges to tables outside the plan', () => {
    expect(insertOrder(['tasks'], [e('tasks', 'projects')])).toEqual([{ tables: ['tasks'], cyclic: false }]);
  });

  it('closes over dependents and over parents', () => {
    const edges = [e('projects', 'customers'), e('tasks', 'projects'), e('invoices', 'customers'), e('projects', 'owners')];
    expect([...withDescendants(['projects'], edges)].sort()).toEqual(['projects', 'tasks']);
    expect([...withAncestors(['projects', 'tasks'], edges)].sort()).toEqual(['customers', 'owners', 'projects', 'tasks']);
    expect([...withDescendants(['customers'], edges)].sort()).toEqual(['customers', 'invoices', 'projects', 'tasks']);
  });
});
