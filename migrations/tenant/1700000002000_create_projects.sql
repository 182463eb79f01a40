-- Up Migration
-- Projects belong to a customer; `id` is a serial (sequence-backed) column.
CREATE TABLE projects (
  id serial PRIMARY KEY,
  tenant_id text NOT NULL DEFAULT current_setting('tenantctl.tenant_key', true),
  customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  name text NOT NULL,
  archived boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_customer_id_idx ON projects (customer_id);

-- Down Migration
DROP TABLE projects;
