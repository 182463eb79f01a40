import { ident } from '../util/quote.js';

/**
 * The control schema, as a list of versions. Version N's statements upgrade a
 * schema at N-1; they run in one transaction under the control lock, so two
 * first runs racing each other apply each version exactly once.
 */
export function controlSchemaVersions(controlSchema: string): string[][] {
  const s = ident(controlSchema);
  return [
    [
      // Never IF NOT EXISTS: the privileges below are only ever changed on a schema tenantctl made.
      `CREATE SCHEMA ${s}`,
      `REVOKE ALL ON SCHEMA ${s} FROM PUBLIC`,
      `CREATE TABLE ${s}.meta (key text PRIMARY KEY, value text NOT NULL)`,
      `CREATE TABLE ${s}.tenants (
        id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]{0,39}$'),
        schema_name text NOT NULL UNIQUE,
        role_name text UNIQUE,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'archived')),
        key text NOT NULL,
        name text,
        config jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        archived_at timestamptz
      )`,
      `CREATE TABLE ${s}.tenant_migrations (
        tenant_id text NOT NULL REFERENCES ${s}.tenants (id) ON DELETE CASCADE,
        name text NOT NULL,
        checksum text NOT NULL,
        run_on timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, name)
      )`,
      `CREATE TABLE ${s}.shared_migrations (
        name text PRIMARY KEY,
        checksum text NOT NULL,
        run_on timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE ${s}.operations (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        operation text NOT NULL,
        tenant_id text,
        detail jsonb NOT NULL DEFAULT '{}'::jsonb
      )`,
      `CREATE INDEX operations_tenant_idx ON ${s}.operations (tenant_id, at)`,
    ],
    [
      // Spare tenants kept at the head (the pool), and the captured structure new tenants are made from.
      `ALTER TABLE ${s}.tenants ADD COLUMN pooled boolean NOT NULL DEFAULT false`,
      `CREATE TABLE ${s}.templates (
        head text PRIMARY KEY,
        schema_name text NOT NULL,
        role_name text,
        tenant_id text NOT NULL,
        tenant_key text NOT NULL,
        script text NOT NULL,
        rename_safe boolean NOT NULL,
        per_tenant boolean NOT NULL,
        captured_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
    [
      // The map of tenants that live on another server (config "servers"); a tenant without a row lives here.
      // Ids and keys are unique across the fleet: create checks this table beside tenants.
      `CREATE TABLE ${s}.placements (
        tenant_id text PRIMARY KEY CHECK (tenant_id ~ '^[a-z][a-z0-9_]{0,39}$'),
        server text NOT NULL CHECK (server <> 'default'),
        tenant_key text NOT NULL UNIQUE,
        placed_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE INDEX placements_server_idx ON ${s}.placements (server)`,
    ],
    [
      // The journal is keyed by the tenant's journal id: its id when it was registered, kept when a spare of the
      // pool becomes a tenant (a new id), so taking a spare rewrites one registry row, not one journal row per migration.
      `ALTER TABLE ${s}.tenants ADD COLUMN journal_id text UNIQUE`,
      `UPDATE ${s}.tenants SET journal_id = id`,
      `ALTER TABLE ${s}.tenant_migrations DROP CONSTRAINT tenant_migrations_tenant_id_fkey`,
      `ALTER TABLE ${s}.tenant_migrations ADD CONSTRAINT tenant_migrations_journal_fkey
        FOREIGN KEY (tenant_id) REFERENCES ${s}.tenants (journal_id) ON DELETE CASCADE`,
    ],
  ];
}

export const CONTROL_SCHEMA_VERSION = 4;
