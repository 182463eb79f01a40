// Index statements: CREATE INDEX, DROP INDEX and REINDEX, with or without CONCURRENTLY.
import type { DropStmt, IndexStmt, ReindexStmt } from 'libpg-query';
import { relName, shownRel, strings } from '../names.js';
import type { Check, CheckContext } from './context.js';

export const createIndex: Check<IndexStmt> = (s, ctx) => {
  const table = relName(s.relation);
  const name = s.idxname ? `index ${s.idxname}` : 'an index';
  if (s.concurrent) {
    if (ctx.transactional) inTransaction(ctx, `CREATE INDEX CONCURRENTLY (${name} on ${shownRel(s.relation)})`, s.relation?.location);
  } else if (!ctx.state.isNew(table)) {
    ctx.report(
      'require-concurrent-index-creation',
      `CREATE ${s.unique ? 'UNIQUE ' : ''}INDEX without CONCURRENTLY: ${name} on the existing table ${shownRel(s.relation)} blocks its writes while it builds`,
      { at: s.relation?.location },
    );
  }
  if (s.idxname && ctx.state.isNew(table)) ctx.state.indexCreated(s.idxname);
};

export const dropIndex: Check<DropStmt> = (s, ctx) => {
  const names = (s.objects ?? []).map((o) => ('List' in o ? strings(o.List.items).join('.') : ''));
  if (s.concurrent) {
    if (ctx.transactional) inTransaction(ctx, `DROP INDEX CONCURRENTLY (${names.join(', ')})`);
    return;
  }
  const old = names.filter((n) => !ctx.state.isNewIndex(n.split('.').at(-1) ?? n));
  if (old.length > 0) {
    ctx.report(
      'require-concurrent-index-deletion',
      `DROP INDEX without CONCURRENTLY: ${old.join(', ')} takes an ACCESS EXCLUSIVE lock on its table`,
    );
  }
};

export const reindex: Check<ReindexStmt> = (s, ctx) => {
  const concurrent = (s.params ?? []).some((p) => 'DefElem' in p && p.DefElem.defname === 'concurrently');
  const what = s.relation ? shownRel(s.relation) : (s.name ?? '');
  if (concurrent) {
    if (ctx.transactional) inTransaction(ctx, `REINDEX CONCURRENTLY (${what})`, s.relation?.location);
  } else {
    ctx.report('require-concurrent-reindex', `REINDEX without CONCURRENTLY: ${what} blocks writes while it rebuilds`, {
      at: s.relation?.location,
    });
  }
};

export function inTransaction(ctx: CheckContext, what: string, at?: number): void {
  ctx.report(
    'ban-concurrently-in-transaction',
    `${what} inside a transactional migration: PostgreSQL refuses it there, so the migration fails`,
    { at },
  );
}
