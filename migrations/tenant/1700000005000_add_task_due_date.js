/** Tasks get a due date and an assignee; open tasks are looked up by due date. */
export const up = (pgm) => {
  pgm.addColumns('tasks', {
    due_date: { type: 'date' },
    assignee: { type: 'text' },
  });
  pgm.createIndex('tasks', ['status', 'due_date'], { name: 'tasks_open_due_idx', where: "status <> 'done'" });
  pgm.addConstraint('tasks', 'tasks_status_check', { check: "status IN ('open', 'doing', 'done')" });
};

export const down = (pgm) => {
  pgm.dropConstraint('tasks', 'tasks_status_check');
  pgm.dropIndex('tasks', ['status', 'due_date'], { name: 'tasks_open_due_idx' });
  pgm.dropColumns('tasks', ['due_date', 'assignee']);
};
