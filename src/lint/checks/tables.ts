// Statements that create, rename or drop tables: they update what the run knows, and renames and drops of
// tables the running application uses are findings.
import type { CreateStmt, CreateTableAsStmt, DropStmt, RenameStmt, SelectStmt } from 'libpg-query';
import { relName, shownRel, strings } from '../names.js';
import type { Check } from './context.js';

export const createTable: Check<CreateStmt> = (s, ctx) => ctx.state.created(relName(s.relation));

export const createTableAs: Check<CreateTableAsStmt> = (s, ctx) => ctx.state.created(relName(s.into?.rel));

export const selectInto: Check<SelectStmt> = (s, ctx) => {
  if (s.intoClause) ctx.state.created(relName(s.intoClause.rel));
};

export const rename: Check<RenameStmt> = (s, ctx) => {
  const table = relName(s.relation);
  if (ctx.state.isNew(table)) {
    if (s.renameType === 'OBJECT_TABLE' && s.newname) ctx.state.renamed(table, s.newname);
    return;
  }
  if (s.renameType === 'OBJECT_COLUMN' && s.relationType === 'OBJECT_TABLE') {
    ctx.report(
      'renaming-column',
      `RENAME COLUMN ${s.subname ?? ''} TO ${s.newname ?? ''} on ${shownRel(s.relation)}: the running application still uses the old name`,
      { at: s.relation?.location },
    );
  } else if (s.renameType === 'OBJECT_TABLE') {
    ctx.report(
      'renaming-table',
      `RENAME of table ${shownRel(s.relation)} TO ${s.newname ?? ''}: the running application still uses the old name`,
      { at: s.relation?.location },
    );
  }
};

export const dropTable: Check<DropStmt> = (s, ctx) => {
  for (const o of s.objects ?? []) {
    const parts = 'List' in o ? strings(o.List.items) : [];
    const table = parts.at(-1) ?? '';
    if (ctx.state.isNew(table)) ctx.state.dropped(table);
    else ctx.report('ban-drop-table', `DROP TABLE ${parts.join('.')}: a running application that still uses it breaks`);
  }
};
