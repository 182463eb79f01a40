import { InputError } from '../../errors.js';
import type { Queryable } from '../../db/types.js';
import type { RelocateMode } from './options.js';
import type { RowTable } from './tables.js';

/**
 * Logical replication can carry a tenant's rows while it keeps writing when
 * the source logs logical changes (wal_level = logical), the target's user may
 * CREATE SUBSCRIPTION (superuser on PostgreSQL 15) and every table has a
 * replica identity (else its UPDATEs and DELETEs cannot be replicated). Auto
 * mode takes it when all three hold and says why not otherwise; --mode logical
 * refuses (exit 2) naming what is missing.
 */
export interface ModeChoice {
  mode: 'copy' | 'logical';
  because?: string;
}

export async function logicalBlockers(source: Queryable, target: Queryable, tables: readonly RowTable[]): Promise<string[]> {
  const superuser = `SELECT rolsuper AS sup FROM pg_catalog.pg_roles WHERE rolname = current_user`;
  const [wal, sourceSuper, targetSuper] = await Promise.all([
    source.query<{ wal: string }>(`SELECT current_setting('wal_level') AS wal`),
    source.query<{ sup: boolean }>(superuser),
    target.query<{ sup: boolean }>(superuser),
  ]);
  const out: string[] = [];
  if (wal.rows[0]?.wal !== 'logical') out.push(`the source has wal_level=${wal.rows[0]?.wal ?? 'unknown'}, not logical`);
  if (sourceSuper.rows[0]?.sup !== true)
    out.push("the source's user is not a superuser (a publication FOR TABLES IN SCHEMA needs one on PostgreSQL 15)");
  if (targetSuper.rows[0]?.sup !== true) out.push("the target's user is not a superuser (CREATE SUBSCRIPTION needs one on PostgreSQL 15)");
  const bare = tables.filter((t) => !t.replicaIdentity).map((t) => t.name);
  if (bare.length > 0)
    out.push(
      `table${bare.length === 1 ? '' : 's'} ${bare.join(', ')} ha${bare.length === 1 ? 's' : 've'} no replica identity (no primary key, no REPLICA IDENTITY)`,
    );
  return out;
}

export function chooseMode(asked: RelocateMode, blockers: readonly string[]): ModeChoice {
  if (asked === 'copy') return { mode: 'copy' };
  if (blockers.length === 0) return { mode: 'logical' };
  if (asked === 'logical')
    throw new InputError(
      'logical_impossible',
      `--mode logical cannot move this tenant: ${blockers.join('; ')}; use --mode copy (--block-writes)`,
      {
        blockers,
      },
    );
  return { mode: 'copy', because: `copy mode (writes wait for the copy): ${blockers.join('; ')}` };
}
