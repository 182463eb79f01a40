import { describe, expect, it } from 'vitest';
import type { CatalogTable, SchemaCatalog } from '../../src/copy/catalog.js';
import { planTransfer, readSource, readTarget } from '../../src/copy/plan.js';
import { deleteSql } from '../../src/copy/write.js';
import { isCitusUniqueViolation } from '../../src/citus/refusals.js';

const column = (name: string) => ({ name, type: 'text', generated: false, identity: '' as const, sequence: null });

function catalog(schema: string): SchemaCatalog {
  const customers: CatalogTable = {
    name: 'customers',
    columns: [column('id'), column('tenant_id'), column('name')],
    keys: [{ name: 'customers_pkey', columns: ['id'], primary: true }],
    foreignKeys: [],
  };
  const notes: CatalogTable = {
    name: 'notes',
    columns: [column('customer_id'), column('tenant_id'), column('body')],
    keys: [],
    foreignKeys: [{ name: 'notes_customer_fkey', table: 'notes', columns: ['customer_id'], refTable: 'customers', refColumns: ['id'] }],
  };
  return { schema, tables: new Map([customers, notes].map((t) => [t.name, t])), incoming: [] };
}

function plan(mirrored: boolean) {
  return planTransfer(catalog('tenant_acme'), catalog('tenant_globex'), {
    tables: ['customers'],
    onConflict: 'error',
    remapKeys: false,
    from: 'acme',
    to: 'globex',
    move: true,
    ownershipColumn: 'tenant_id',
    mirrored,
  });
}

describe('a copy on Citus reads coordinator-local copies', () => {
  it('names the local copies on Citus and the tenants own tables elsewhere', () => {
    expect(readSource(plan(true), 'notes')).toBe('pg_temp.tc_src_1');
    expect(readTarget(plan(true), 'customers')).toBe('pg_temp.tc_tgt_0');
    expect(readSource(plan(false), 'notes')).toBe('"tenant_acme"."notes"');
    expect(readTarget(plan(false), 'customers')).toBe('"tenant_globex"."customers"');
  });

  it('deletes from the tenant table by primary key through the copy, or by bound positions without one', () => {
    expect(deleteSql(plan(true), 'customers')).toMatch(
      /^DELETE FROM "tenant_acme"."customers" s USING \(SELECT m."id" FROM pg_temp.tc_src_0 m\s+JOIN pg_temp.tc_sel_0 k ON k.rel = m.tableoid AND k.rid = m.ctid AND k.del\) d\s+WHERE s."id" = d."id"$/,
    );
    expect(deleteSql(plan(true), 'notes')).toBe('DELETE FROM "tenant_acme"."notes" WHERE ctid = ANY($1::tid[])');
    expect(deleteSql(plan(false), 'notes')).toBe(
      'DELETE FROM "tenant_acme"."notes" s USING pg_temp.tc_sel_1 k WHERE k.rel = s.tableoid AND k.rid = s.ctid AND k.del',
    );
  });

  it('recognises a unique violation Citus re-raised with SQLSTATE XX000, and nothing else', () => {
    expect(
      isCitusUniqueViolation({ code: 'XX000', message: 'duplicate key value violates unique constraint "customers_pkey_102013"' }),
    ).toBe(true);
    expect(isCitusUniqueViolation({ code: 'XX000', message: 'could not connect to worker' })).toBe(false);
    expect(isCitusUniqueViolation({ code: '23505', message: 'duplicate key value violates unique constraint "x"' })).toBe(false);
    expect(isCitusUniqueViolation(undefined)).toBe(false);
  });
});
