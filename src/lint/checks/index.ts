// Which checks look at which statement type.
import type { CheckContext } from './context.js';
import { alterTable } from './alter-table.js';
import { createIndex, dropIndex, reindex } from './indexes.js';
import { cluster, refreshMatView, transaction, vacuum } from './maintenance.js';
import { createTable, createTableAs, dropTable, rename, selectInto } from './tables.js';
import { citusCreateSchema, citusForeignKeys, citusTrigger, citusVariableSet } from './citus.js';

type AnyCheck = (statement: never, ctx: CheckContext) => void;

const BY_TYPE: Record<string, AnyCheck> = {
  IndexStmt: createIndex,
  ReindexStmt: reindex,
  AlterTableStmt: alterTable,
  CreateStmt: createTable,
  CreateTableAsStmt: createTableAs,
  SelectStmt: selectInto,
  RenameStmt: rename,
  VacuumStmt: vacuum,
  ClusterStmt: cluster,
  RefreshMatViewStmt: refreshMatView,
  TransactionStmt: transaction,
  CreateTrigStmt: citusTrigger,
  CreateSchemaStmt: citusCreateSchema,
  VariableSetStmt: citusVariableSet,
};

/** Runs the checks for one parsed statement (DROP dispatches on what it drops). */
export function checkStatement(type: string, node: Record<string, unknown>, ctx: CheckContext): void {
  if (type === 'DropStmt') {
    const what = node.removeType;
    if (what === 'OBJECT_INDEX') dropIndex(node as never, ctx);
    else if (what === 'OBJECT_TABLE') dropTable(node as never, ctx);
    return;
  }
  if (type === 'CreateStmt' || type === 'AlterTableStmt') citusForeignKeys(node, ctx);
  (BY_TYPE[type] as ((s: unknown, c: CheckContext) => void) | undefined)?.(node, ctx);
}
