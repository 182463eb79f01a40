/** An index on the ownership column of every table: what `verify` probes. */
const tables = ['customers', 'projects', 'tasks', 'invoices'];

export const up = (pgm) => {
  for (const table of tables) pgm.createIndex(table, 'tenant_id');
};

export const down = (pgm) => {
  for (const table of tables) pgm.dropIndex(table, 'tenant_id');
};
