/** Tasks of a project. */
export const up = (pgm) => {
  pgm.createTable('tasks', {
    id: 'bigserial',
    tenant_id: { type: 'text', notNull: true, default: pgm.func("current_setting('tenantctl.tenant_key', true)") },
    project_id: { type: 'integer', notNull: true, references: 'projects', onDelete: 'CASCADE' },
    title: { type: 'text', notNull: true },
    status: { type: 'text', notNull: true, default: 'open' },
    created_at: { type: 'timestamptz', notNull: true, default: pgm.func('now()') },
  });
  pgm.addConstraint('tasks', 'tasks_pkey', { primaryKey: 'id' });
  pgm.createIndex('tasks', 'project_id');
};

export const down = (pgm) => {
  pgm.dropTable('tasks');
};
