/** What a user may write in tenantctl.config.json: every key optional, nothing checked yet. */
export interface RawConfig {
  controlSchema?: unknown;
  schemaPrefix?: unknown;
  sharedSchema?: unknown;
  tenantMigrations?: unknown;
  sharedMigrations?: unknown;
  ownershipColumn?: unknown;
  roles?: unknown;
  concurrency?: unknown;
  lockTimeout?: unknown;
  statementTimeout?: unknown;
  lockRetries?: unknown;
  servers?: unknown;
  placement?: unknown;
  citus?: unknown;
}

/** Validated settings with defaults applied; migration folders are absolute paths. */
export interface Config {
  controlSchema: string;
  schemaPrefix: string;
  sharedSchema: string;
  tenantMigrations: string;
  sharedMigrations: string;
  ownershipColumn: string;
  roles: boolean;
  concurrency: number;
  /** Postgres duration text, e.g. "5s"; "0" means no limit. */
  lockTimeout: string;
  statementTimeout: string;
  /** How many more times migrate tries a tenant that hit a lock timeout, deadlock or serialization failure. */
  lockRetries: number;
  /**
   * The servers beside the home one (the server the connection names, called
   * "default"): name -> connection URL, environment variables already expanded.
   */
  servers: Record<string, string>;
  /** Where `tenant create` without --server puts tenants: the home server, or the server with the fewest tenants. */
  placement: 'home' | 'fewest-tenants';
  /**
   * Settings for a Citus coordinator (null when the key is absent; Citus is then still detected at init and
   * the defaults apply). Its presence also turns on migrate lint's Citus rules.
   */
  citus: CitusConfig | null;
}

/** Which tables of the shared schema become Citus reference tables: every one, none, or these names. */
export type ReferenceTables = 'all' | 'none' | string[];

export interface CitusConfig {
  referenceTables: ReferenceTables;
}

/** On a Citus coordinator without a "citus" key: every shared table becomes a reference table. */
export const DEFAULT_CITUS_CONFIG: CitusConfig = { referenceTables: 'all' };

export const CONFIG_KEYS = [
  'controlSchema',
  'schemaPrefix',
  'sharedSchema',
  'tenantMigrations',
  'sharedMigrations',
  'ownershipColumn',
  'roles',
  'concurrency',
  'lockTimeout',
  'statementTimeout',
  'lockRetries',
  'servers',
  'placement',
  'citus',
] as const satisfies readonly (keyof RawConfig)[];

/** The name of the home server: the one the connection (flag, DATABASE_URL, PG*, embedded) names. */
export const HOME_SERVER = 'default';

export const DEFAULT_CONFIG: Omit<Config, 'tenantMigrations' | 'sharedMigrations'> & {
  tenantMigrations: string;
  sharedMigrations: string;
} = {
  controlSchema: 'tenantctl',
  schemaPrefix: 'tenant_',
  sharedSchema: 'public',
  tenantMigrations: 'migrations/tenant',
  sharedMigrations: 'migrations/shared',
  ownershipColumn: 'tenant_id',
  roles: true,
  concurrency: 4,
  lockTimeout: '5s',
  statementTimeout: '0',
  lockRetries: 3,
  servers: {},
  placement: 'home',
  citus: null,
};
