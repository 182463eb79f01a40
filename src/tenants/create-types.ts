import type { FailurePolicy } from '../runtime/fleet.js';
import type { FleetSummary, TenantRunResult } from '../runtime/results.js';

/** What `tenant create` takes and gives back (create.ts runs it; create-elsewhere.ts on another server). */
export interface CreateTenantsOptions extends FailurePolicy {
  ids: string[];
  name?: string;
  /** The tenant key (ownership column value); defaults to the id. One tenant only. */
  key?: string;
  /** Tenant config values. */
  set?: Record<string, string>;
  concurrency?: number;
  /** Replay every migration instead of making tenants from the captured structure or taking spares from the pool. */
  replay?: boolean;
  /** The server to put them on: a name from the config's `servers`; default the home server ("default"). */
  server?: string;
}

/** How a tenant was made: a spare of the pool renamed, the captured structure, or every migration replayed. */
export type CreateMethod = 'pool' | 'template' | 'replay';

export interface CreatedTenant extends TenantRunResult {
  method?: CreateMethod;
  /** The server it lives on, when not the home server. */
  server?: string;
}

export interface CreateTenantsResult {
  tenants: CreatedTenant[];
  summary: FleetSummary;
  stoppedBecause?: string;
  /** Why tenants were built by replay although --replay was not asked for (the template could not be captured). */
  replayBecause?: string;
}
