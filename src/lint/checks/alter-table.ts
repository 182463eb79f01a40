// ALTER TABLE: each command of the statement, judged by whether the table existed before the migration.
import type { AlterTableStmt } from 'libpg-query';
import { relName, shownRel } from '../names.js';
import { addColumn } from './add-column.js';
import { alterColumnType } from './column-type.js';
import { constraintOnExistingTable, trackConstraint } from './constraints.js';
import type { Check } from './context.js';
import { inTransaction } from './indexes.js';

const REWRITES: Record<string, string> = {
  AT_SetTableSpace: 'SET TABLESPACE',
  AT_SetLogged: 'SET LOGGED',
  AT_SetUnLogged: 'SET UNLOGGED',
  AT_SetAccessMethod: 'SET ACCESS METHOD',
};

export const alterTable: Check<AlterTableStmt> = (s, ctx) => {
  if (s.objtype !== undefined && s.objtype !== 'OBJECT_TABLE') return;
  const key = relName(s.relation);
  const table = shownRel(s.relation);
  const existing = !ctx.state.isNew(key);
  for (const node of s.cmds ?? []) {
    if (!('AlterTableCmd' in node)) continue;
    const cmd = node.AlterTableCmd;
    const def = cmd.def;
    switch (cmd.subtype) {
      case 'AT_AddColumn':
        if (existing && def && 'ColumnDef' in def) addColumn(def.ColumnDef, table, ctx);
        break;
      case 'AT_AlterColumnType':
        if (existing) alterColumnType(cmd.name ?? '', def && 'ColumnDef' in def ? def.ColumnDef : undefined, table, ctx);
        break;
      case 'AT_AddConstraint':
        if (def && 'Constraint' in def) {
          if (existing) constraintOnExistingTable(def.Constraint, table, ctx);
          trackConstraint(def.Constraint, key, ctx);
        }
        break;
      case 'AT_ValidateConstraint':
        if (ctx.state.validated(key, cmd.name ?? '')) {
          ctx.report(
            'validate-in-same-transaction',
            `VALIDATE CONSTRAINT ${cmd.name ?? ''} on ${table} in the transaction that added it NOT VALID: the scan runs under the ADD's lock`,
          );
        }
        break;
      case 'AT_SetNotNull':
        if (existing && !ctx.state.isProvenNotNull(key, cmd.name ?? '')) {
          ctx.report(
            'setting-not-null',
            `SET NOT NULL on ${table}.${cmd.name ?? ''} with no validated CHECK (${cmd.name ?? ''} IS NOT NULL) before it: the whole table is scanned under an ACCESS EXCLUSIVE lock`,
          );
        }
        break;
      case 'AT_DropColumn':
        if (existing)
          ctx.report(
            'ban-drop-column',
            `DROP COLUMN ${cmd.name ?? ''} from ${table}: a running application that still reads or writes it breaks`,
          );
        break;
      case 'AT_DetachPartition':
        if (def && 'PartitionCmd' in def && def.PartitionCmd.concurrent && ctx.transactional)
          inTransaction(ctx, `DETACH PARTITION ... CONCURRENTLY on ${table}`);
        break;
      default: {
        const rewrite = cmd.subtype ? REWRITES[cmd.subtype] : undefined;
        if (rewrite && existing)
          ctx.report('ban-table-rewrite', `${rewrite} on ${table} rewrites the table under an ACCESS EXCLUSIVE lock`);
      }
    }
  }
};
