// Maintenance statements inside migrations: VACUUM FULL, CLUSTER, REFRESH MATERIALIZED VIEW, and
// transaction control the migration's own transaction does not allow.
import type { ClusterStmt, RefreshMatViewStmt, TransactionStmt, VacuumStmt } from 'libpg-query';
import { relName, shownRel } from '../names.js';
import type { Check } from './context.js';
import { inTransaction } from './indexes.js';

export const vacuum: Check<VacuumStmt> = (s, ctx) => {
  const full = (s.options ?? []).some((o) => 'DefElem' in o && o.DefElem.defname === 'full');
  if (full) ctx.report('ban-table-rewrite', 'VACUUM FULL rewrites each table under an ACCESS EXCLUSIVE lock');
};

export const cluster: Check<ClusterStmt> = (s, ctx) => {
  ctx.report(
    'ban-table-rewrite',
    `CLUSTER${s.relation ? ` ${shownRel(s.relation)}` : ''} rewrites the table under an ACCESS EXCLUSIVE lock`,
    { at: s.relation?.location },
  );
};

export const refreshMatView: Check<RefreshMatViewStmt> = (s, ctx) => {
  const view = shownRel(s.relation);
  if (s.concurrent) {
    if (ctx.transactional) inTransaction(ctx, `REFRESH MATERIALIZED VIEW CONCURRENTLY ${view}`, s.relation?.location);
  } else if (!ctx.state.isNew(relName(s.relation))) {
    ctx.report(
      'refresh-materialized-view',
      `REFRESH MATERIALIZED VIEW ${view} without CONCURRENTLY blocks reads of the view while it runs`,
      { at: s.relation?.location },
    );
  }
};

export const transaction: Check<TransactionStmt> = (s, ctx) => {
  // A non-transactional migration may manage its own transactions.
  if (!ctx.transactional) return;
  const kind = (s.kind ?? '').replace(/^TRANS_STMT_/, '').replace(/_/g, ' ');
  ctx.report(
    'ban-transaction-control',
    `${kind} inside a transactional migration: tenantctl already runs it in a transaction, and this ends or nests it`,
  );
};
