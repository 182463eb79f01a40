/** What to do with a copied row whose key already exists in the target. */
export type OnConflict = 'error' | 'skip' | 'update';

export const ON_CONFLICT_MODES: readonly OnConflict[] = ['error', 'skip', 'update'];

export interface TransferOptions {
  /** Source tenant id. */
  from: string;
  /** Target tenant id. */
  to: string;
  /** Copy only these tables (and the rows that reference or are needed by their rows); default every table. */
  tables?: string[];
  /** A SQL condition on the rows of the named tables (needs `tables`), evaluated with the source on the search_path. */
  where?: string;
  /** Rows whose keys already exist in the target: fail (default), leave them out, or overwrite the target's. */
  onConflict?: OnConflict;
  /** Give copied rows new keys from the target's sequences and identity columns, rewriting every reference. */
  remapKeys?: boolean;
  /** Compute and report the plan; change nothing. */
  dryRun?: boolean;
}

/** One table's part in a copy, move or clone. */
export interface TableCount {
  table: string;
  /** Rows written into the target (inserted, or updated with --on-conflict update). */
  rows: number;
  /** move: rows deleted from the source (every one of them was written into the target). */
  deleted?: number;
  /** Rows left out because their key exists in the target (skip), or because a row they need was left out. */
  skipped?: number;
  /** Rows written only because selected rows need them (parents missing in the target); a move copies them and leaves them in the source. */
  parents?: number;
  /** Dry run: rows whose key already exists in the target. */
  conflicts?: number;
}

/** A unique key of the target that copied rows would collide with. */
export interface KeyConflict {
  table: string;
  constraint: string;
  columns: string[];
  /** How many copied rows collide on this key. */
  count: number;
  /** Up to ten of the colliding key values, as the target would see them. */
  keys: unknown[][];
}

export type TransferStatus = 'copied' | 'moved' | 'cloned' | 'planned' | 'failed';

export interface TransferResult {
  operation: 'copy' | 'move' | 'clone';
  status: TransferStatus;
  from: string;
  to: string;
  dryRun: boolean;
  onConflict: OnConflict;
  remapKeys: boolean;
  /** Per table, in the order rows were (or would be) inserted: parents first. */
  tables: TableCount[];
  /** Rows written into the target in all. */
  rows: number;
  /** move: rows deleted from the source in all. */
  deleted?: number;
  /** Groups of tables that reference each other in a cycle (each group is written in one statement). */
  cycles: string[][];
  /** What went wrong when status is failed; nothing was changed. */
  error?: { code: string; message: string };
  conflicts?: KeyConflict[];
  /** How many transactions the run took, when the server asked for a retry (serialization failure, deadlock, lock timeout). */
  attempts?: number;
  stats: { seconds: number };
}
