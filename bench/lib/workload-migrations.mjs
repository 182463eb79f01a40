// The benchmark workload: 20 tenant migrations that build, per tenant, 10 tables, 24 indexes,
// 12 foreign keys and 63 columns. Statements are schema-unqualified, so the search_path picks the
// schema and every tool runs byte-identical DDL. Each entry: { name, up: [...], down: [...] }.

const ts = 'created_at timestamptz NOT NULL DEFAULT now()';

export const migrations = [
  {
    name: 'create_accounts',
    up: [
      `CREATE TABLE accounts (
  id bigserial PRIMARY KEY,
  tenant_id integer NOT NULL,
  name text NOT NULL,
  ${ts}
)`,
    ],
    down: ['DROP TABLE accounts'],
  },
  {
    name: 'create_users',
    up: [
      `CREATE TABLE users (
  id bigserial PRIMARY KEY,
  tenant_id integer NOT NULL,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  email text NOT NULL,
  ${ts}
)`,
      'CREATE INDEX users_account_id_idx ON users (account_id)',
    ],
    down: ['DROP TABLE users'],
  },
  {
    name: 'create_projects',
    up: [
      `CREATE TABLE projects (
  id bigserial PRIMARY KEY,
  tenant_id integer NOT NULL,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  owner_id bigint REFERENCES users (id) ON DELETE SET NULL,
  name text NOT NULL,
  ${ts}
)`,
    ],
    down: ['DROP TABLE projects'],
  },
  {
    name: 'create_tasks',
    up: [
      `CREATE TABLE tasks (
  id bigserial PRIMARY KEY,
  tenant_id integer NOT NULL,
  project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  assignee_id bigint REFERENCES users (id) ON DELETE SET NULL,
  title text NOT NULL,
  status text NOT NULL DEFAULT 'open',
  ${ts}
)`,
    ],
    down: ['DROP TABLE tasks'],
  },
  {
    name: 'create_comments',
    up: [
      `CREATE TABLE comments (
  id bigserial PRIMARY KEY,
  tenant_id integer NOT NULL,
  task_id bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  author_id bigint NOT NULL REFERENCES users (id),
  body text NOT NULL,
  ${ts}
)`,
    ],
    down: ['DROP TABLE comments'],
  },
  {
    name: 'create_tags',
    up: [
      `CREATE TABLE tags (
  id bigserial PRIMARY KEY,
  tenant_id integer NOT NULL,
  name text NOT NULL,
  CONSTRAINT tags_tenant_name_uq UNIQUE (tenant_id, name)
)`,
    ],
    down: ['DROP TABLE tags'],
  },
  {
    name: 'create_task_tags',
    up: [
      `CREATE TABLE task_tags (
  id bigserial PRIMARY KEY,
  tenant_id integer NOT NULL,
  task_id bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  tag_id bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  CONSTRAINT task_tags_task_tag_uq UNIQUE (task_id, tag_id)
)`,
      'CREATE INDEX task_tags_tag_id_idx ON task_tags (tag_id)',
    ],
    down: ['DROP TABLE task_tags'],
  },
  {
    name: 'create_attachments',
    up: [
      `CREATE TABLE attachments (
  id bigserial PRIMARY KEY,
  tenant_id integer NOT NULL,
  task_id bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  filename text NOT NULL,
  size_bytes bigint NOT NULL DEFAULT 0,
  ${ts}
)`,
    ],
    down: ['DROP TABLE attachments'],
  },
  {
    name: 'create_invoices',
    up: [
      `CREATE TABLE invoices (
  id bigserial PRIMARY KEY,
  tenant_id integer NOT NULL,
  account_id bigint NOT NULL REFERENCES accounts (id),
  amount_cents bigint NOT NULL,
  issued_on date NOT NULL,
  ${ts}
)`,
    ],
    down: ['DROP TABLE invoices'],
  },
  {
    name: 'create_audit_log',
    up: [
      `CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  tenant_id integer NOT NULL,
  actor_id bigint REFERENCES users (id) ON DELETE SET NULL,
  action text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  at timestamptz NOT NULL DEFAULT now()
)`,
    ],
    down: ['DROP TABLE audit_log'],
  },
  {
    name: 'index_tasks_and_comments',
    up: ['CREATE INDEX tasks_project_status_idx ON tasks (project_id, status)', 'CREATE INDEX comments_task_id_idx ON comments (task_id)'],
    down: ['DROP INDEX comments_task_id_idx', 'DROP INDEX tasks_project_status_idx'],
  },
  {
    name: 'users_add_profile_columns',
    up: ['ALTER TABLE users ADD COLUMN display_name text', 'ALTER TABLE users ADD COLUMN last_login_at timestamptz'],
    down: ['ALTER TABLE users DROP COLUMN last_login_at', 'ALTER TABLE users DROP COLUMN display_name'],
  },
  {
    name: 'projects_add_archived',
    up: [
      'ALTER TABLE projects ADD COLUMN archived boolean NOT NULL DEFAULT false',
      'CREATE INDEX projects_account_active_idx ON projects (account_id) WHERE NOT archived',
    ],
    down: ['DROP INDEX projects_account_active_idx', 'ALTER TABLE projects DROP COLUMN archived'],
  },
  {
    name: 'tasks_add_due_and_priority',
    up: [
      'ALTER TABLE tasks ADD COLUMN due_on date',
      'ALTER TABLE tasks ADD COLUMN priority smallint NOT NULL DEFAULT 0',
      'CREATE INDEX tasks_due_on_idx ON tasks (due_on)',
    ],
    down: ['DROP INDEX tasks_due_on_idx', 'ALTER TABLE tasks DROP COLUMN priority', 'ALTER TABLE tasks DROP COLUMN due_on'],
  },
  {
    name: 'users_unique_email',
    up: ['CREATE UNIQUE INDEX users_tenant_email_uq ON users (tenant_id, lower(email))'],
    down: ['DROP INDEX users_tenant_email_uq'],
  },
  {
    name: 'invoices_add_status',
    up: ["ALTER TABLE invoices ADD COLUMN status text NOT NULL DEFAULT 'draft'", 'ALTER TABLE invoices ADD COLUMN paid_at timestamptz'],
    down: ['ALTER TABLE invoices DROP COLUMN paid_at', 'ALTER TABLE invoices DROP COLUMN status'],
  },
  {
    name: 'index_audit_log',
    up: ['CREATE INDEX audit_log_at_idx ON audit_log (at)', 'CREATE INDEX audit_log_actor_id_idx ON audit_log (actor_id)'],
    down: ['DROP INDEX audit_log_actor_id_idx', 'DROP INDEX audit_log_at_idx'],
  },
  {
    name: 'attachments_add_content_type',
    up: ['ALTER TABLE attachments ADD COLUMN content_type text', 'CREATE INDEX attachments_task_id_idx ON attachments (task_id)'],
    down: ['DROP INDEX attachments_task_id_idx', 'ALTER TABLE attachments DROP COLUMN content_type'],
  },
  {
    name: 'comments_edited_and_tag_color',
    up: ['ALTER TABLE comments ADD COLUMN edited_at timestamptz', 'ALTER TABLE tags ADD COLUMN color text'],
    down: ['ALTER TABLE tags DROP COLUMN color', 'ALTER TABLE comments DROP COLUMN edited_at'],
  },
  {
    name: 'index_invoices_and_accounts',
    up: [
      'CREATE INDEX invoices_account_status_idx ON invoices (account_id, status)',
      'CREATE INDEX accounts_tenant_id_idx ON accounts (tenant_id)',
    ],
    down: ['DROP INDEX accounts_tenant_id_idx', 'DROP INDEX invoices_account_status_idx'],
  },
];

export const migrationId = (i) => String(i + 1).padStart(4, '0');
export const migrationFileBase = (i) => `${migrationId(i)}_${migrations[i].name}`;
