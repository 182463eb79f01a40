/** Shared: the plans every tenant's customers can be on. Migrated once, not per tenant. */
export const up = (pgm) => {
  pgm.createTable('plans', {
    id: 'id',
    code: { type: 'text', notNull: true, unique: true },
    name: { type: 'text', notNull: true },
    monthly_price_cents: { type: 'integer', notNull: true, default: 0 },
  });
  pgm.sql(`INSERT INTO plans (code, name, monthly_price_cents) VALUES
    ('free', 'Free', 0), ('team', 'Team', 2900), ('business', 'Business', 9900)`);
};

export const down = (pgm) => {
  pgm.dropTable('plans');
};
