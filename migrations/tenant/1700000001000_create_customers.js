/** Customers of the tenant. `id` is an identity column; every row carries tenant_id. */
export const up = (pgm) => {
  pgm.createTable('customers', {
    id: { type: 'bigint', primaryKey: true, sequenceGenerated: { precedence: 'ALWAYS' } },
    tenant_id: { type: 'text', notNull: true, default: pgm.func("current_setting('tenantctl.tenant_key', true)") },
    name: { type: 'text', notNull: true },
    email: { type: 'text' },
    plan_code: { type: 'text', notNull: true, default: 'free', references: 'plans(code)' },
    created_at: { type: 'timestamptz', notNull: true, default: pgm.func('now()') },
  });
};

export const down = (pgm) => {
  pgm.dropTable('customers');
};
