// The public API: every CLI command is one of these functions.
export { openTenantctl, type OpenOptions, type Tenantctl } from './runtime/open.js';
export { createContext, type Context } from './context.js';
export { silentLogger, type Logger, type ProgressEvent } from './logger.js';
export { init, type InitResult } from './migrate/init.js';
export {
  createTenants,
  validateCreateOptions,
  type CreateTenantsOptions,
  type CreateTenantsResult,
  type CreatedTenant,
  type CreateMethod,
} from './tenants/create.js';
export { fillPool, poolStatus, validateFillPoolOptions, type FillPoolOptions, type PoolStatus } from './tenants/instant/pool.js';
export {
  listTenants,
  showTenant,
  validateListOptions,
  type ListTenantsOptions,
  type TenantSummary,
  type TenantDetail,
} from './tenants/list.js';
export { updateTenant, validateUpdateOptions, type UpdateTenantOptions } from './tenants/update.js';
export {
  removeTenants,
  validateRemoveOptions,
  archivedSchemaName,
  type RemoveTenantsOptions,
  type RemoveResult,
} from './tenants/remove.js';
export { restoreTenant, type RestoreResult } from './tenants/restore.js';
export {
  relocateTenant,
  validateRelocateOptions,
  type RelocateOptions,
  type RelocateResult,
  type RelocatedTable,
  type RelocateMode,
} from './tenants/relocate/index.js';
export { migrate, validateMigrateOptions, type MigrateOptions, type MigrateResult } from './migrate/up.js';
export { migrateDown, validateDownOptions, type MigrateDownOptions, type MigrateDownResult } from './migrate/down.js';
export { migrateStatus, validateStatusOptions, type MigrateStatusResult, type TenantMigrationStatus } from './migrate/status.js';
export { newMigration, validateNewMigrationOptions, type NewMigrationOptions } from './migrate/new.js';
export { execAsTenant, validateExecOptions, validateExecSql, type ExecOptions, type ExecStatementResult } from './tenants/exec.js';
export {
  execFleet,
  validateExecFleetOptions,
  type ExecFleetOptions,
  type ExecFleetResult,
  type ExecTenantResult,
} from './tenants/exec-fleet.js';
export { withTenant, poolFor, type WithTenantOptions, type TenantPool } from './tenants/with-tenant.js';
export { tenantServer, tenantContext } from './runtime/route.js';
export { readOperations, type OperationEntry } from './control/oplog.js';
export { assertTenantId } from './runtime/ids.js';
export { validateIds } from './runtime/lookup.js';
export type { TenantRunResult, TenantRunStatus, FleetSummary } from './runtime/results.js';
export type { FailurePolicy } from './runtime/fleet.js';
export { loadConfig } from './config/load.js';
export { resolveConfig } from './config/resolve.js';
export type { Config, RawConfig } from './config/types.js';
export { TenantctlError, InputError, DatabaseError, RunFailure, toTenantctlError, oneLine, type ExitCode } from './errors.js';
export { ident, qualified, literal } from './util/quote.js';
export * from './copy/index.js';
export { cloneTenant, validateCloneOptions, type CloneOptions } from './tenants/clone.js';
export * from './verify/index.js';
export * from './lint/index.js';
export * from './query/index.js';
export { exportTenant, validateExportOptions, type ExportOptions, type ExportResult } from './tenants/export.js';
export { importTenant, validateImportOptions, type ImportOptions, type ImportResult } from './tenants/import.js';
export { DATA_FORMATS, EXPORT_FORMAT_VERSION, readManifest, type DataFormat, type Manifest } from './tenants/archive-format.js';
export {
  relocateOnCitus,
  validateRelocateOnCitusOptions,
  type RelocateOnCitusOptions,
  type RelocateOnCitusResult,
  type RelocateProgress,
} from './citus/relocate.js';
export type { Placement } from './citus/placement.js';
export type { CitusConfig, ReferenceTables } from './config/types.js';
export { rebalanceOnCitus, type RebalanceOnCitusOptions, type RebalanceOnCitusResult, type RebalanceProgress } from './citus/rebalance.js';
