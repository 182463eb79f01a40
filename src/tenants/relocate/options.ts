import { usage } from '../../errors.js';
import { unknownServer } from '../../db/servers.js';
import { assertTenantId } from '../../runtime/ids.js';

/** `tenant relocate ID --to SERVER`: one tenant, every row, to another server of the fleet. */
export interface RelocateOptions {
  id: string;
  /** The server it goes to: "default" (the home server) or a name of the config's `servers`. */
  to: string;
  /** How the rows travel: logical replication where the source allows it (auto), or a copy under a write freeze. */
  mode?: RelocateMode;
  /** Writes wait for the whole copy (copy mode): for a tenant with a table logical replication cannot follow. */
  blockWrites?: boolean;
  /** Drop the archived source schema, role and row once the tenant is on its new server. */
  purgeSource?: boolean;
}

export type RelocateMode = 'auto' | 'copy' | 'logical';

export interface RelocatedTable {
  table: string;
  rows: number;
  /** sum(hashtextextended(row::text, 0)) over the table, equal on both servers. */
  checksum: string;
}

export interface RelocateResult {
  tenant: string;
  from: string;
  to: string;
  mode: 'copy' | 'logical';
  /** Why auto chose copy mode (logical replication impossible here). */
  modeBecause?: string;
  tables: RelocatedTable[];
  rows: number;
  bytes: number;
  seconds: number;
  /** The source's copy, kept on `from` (renamed, access revoked), or null once purged. */
  archivedSource: string | null;
  /** The tenant was already on `to`: an interrupted move was finished (the source archived), nothing copied. */
  converged?: boolean;
}

const MODES: readonly RelocateMode[] = ['auto', 'copy', 'logical'];

/** Exit 2 before any connection: an id, a target server name, a mode. Whether the server is known is checked against the config. */
export function validateRelocateOptions(
  options: RelocateOptions,
  servers?: { has(name: string): boolean; names(): string[] },
): RelocateOptions {
  assertTenantId(options.id);
  if (!options.to) throw usage('tenant relocate needs --to SERVER, the server it goes to ("default" for the home server)');
  const mode = options.mode ?? (options.blockWrites ? 'copy' : 'auto');
  if (!MODES.includes(mode)) throw usage(`--mode must be auto, copy or logical, not ${JSON.stringify(options.mode)}`);
  if (options.blockWrites && mode === 'logical') throw usage('--block-writes is copy mode; it cannot go with --mode logical');
  if (servers && !servers.has(options.to)) throw unknownServer(options.to, servers.names());
  return { ...options, mode };
}
