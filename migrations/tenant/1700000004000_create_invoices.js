/** Invoices: an identity key, and a human invoice number from a sequence of the tenant's own. */
export const up = (pgm) => {
  pgm.createSequence('invoice_number_seq', { start: 1000 });
  pgm.createTable('invoices', {
    id: { type: 'bigint', primaryKey: true, sequenceGenerated: { precedence: 'BY DEFAULT' } },
    tenant_id: { type: 'text', notNull: true, default: pgm.func("current_setting('tenantctl.tenant_key', true)") },
    customer_id: { type: 'bigint', notNull: true, references: 'customers', onDelete: 'RESTRICT' },
    number: { type: 'bigint', notNull: true, unique: true, default: pgm.func("nextval('invoice_number_seq')") },
    amount_cents: { type: 'integer', notNull: true },
    status: { type: 'text', notNull: true, default: 'draft' },
    issued_at: { type: 'timestamptz' },
  });
  pgm.createIndex('invoices', 'customer_id');
};

export const down = (pgm) => {
  pgm.dropTable('invoices');
  pgm.dropSequence('invoice_number_seq');
};
