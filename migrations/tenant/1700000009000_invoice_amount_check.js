/** Invoices may not be negative; the status column gets a check too. */
export const up = (pgm) => {
  pgm.addConstraint('invoices', 'invoices_amount_nonnegative', { check: 'amount_cents >= 0' });
  pgm.alterColumn('invoices', 'status', { type: 'text', notNull: true, default: 'draft' });
  pgm.addConstraint('invoices', 'invoices_status_check', { check: "status IN ('draft', 'sent', 'paid', 'void')" });
};

export const down = (pgm) => {
  pgm.dropConstraint('invoices', 'invoices_status_check');
  pgm.dropConstraint('invoices', 'invoices_amount_nonnegative');
};
