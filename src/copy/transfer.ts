import type { Context } from '../context.js';
import { findTenants } from '../runtime/lookup.js';
import { assertOneServer } from '../runtime/route.js';
import { serverContext } from '../runtime/servers.js';
import { ensureControlSchema } from '../control/ensure.js';
import { logOperationSql } from '../control/oplog.js';
import { readCatalog } from './catalog.js';
import { executePlan } from './execute.js';
import { asFailure } from './failure.js';
import { validateTransferOptions, type ValidOptions } from './options.js';
import { planTransfer, type TransferPlan } from './plan.js';
import { assertNotArchived, usableTenants } from '../runtime/usable-tenants.js';
import { inTransferSnapshot } from './snapshot.js';
import { holdSourceSql } from './hold.js';
import { withRetries } from './retry.js';
import type { TransferOptions, TransferResult } from './types.js';
import { citusOf } from '../citus/detect.js';

/**
 * Copies rows from one tenant into another, in one transaction: the
 * ownership column rewritten to the target's key, parents first, sequences
 * advanced. Bad input throws an InputError before anything changes; a run
 * that cannot finish (key conflicts, a failing --where) is a failed result.
 */
export function copyRows(ctx: Context, options: TransferOptions): Promise<TransferResult> {
  return transfer(ctx, 'copy', options);
}

/**
 * Copy, then delete from the source exactly the moved rows that were
 * written, checked per table before commit: one transaction.
 */
export function moveRows(ctx: Context, options: TransferOptions): Promise<TransferResult> {
  return transfer(ctx, 'move', options);
}

/** A run the server asks to retry (serialization failure, deadlock, lock timeout) is tried again, four times in all. */
const RETRIES = { attempts: 4, baseMs: 100 };

async function transfer(home: Context, operation: 'copy' | 'move', options: TransferOptions): Promise<TransferResult> {
  const started = performance.now();
  const o = validateTransferOptions(options);
  const found = await findTenants(home, [o.from, o.to]);
  found.forEach(assertNotArchived);
  // Both tenants on one server (exit 2 otherwise, before any change): the whole run happens there.
  const server = assertOneServer(
    operation,
    found.find((t) => t.id === o.from)!,
    found.find((t) => t.id === o.to)!,
  );
  const ctx = serverContext(home, server);
  // On Citus the run reads coordinator-local copies of the tenants' tables (mirror.ts).
  const mirrored = (await citusOf(ctx)) !== null;
  if (!o.dryRun) await ensureControlSchema(ctx);
  // A move holds the source's tables still for its short transaction, so that live writes wait instead of failing it.
  const sourceSchema = found.find((t) => t.id === o.from)!.schema;
  const hold = operation === 'move' && !o.dryRun ? await holdSourceSql(ctx.pool, sourceSchema) : undefined;
  const base = {
    operation,
    from: o.from,
    to: o.to,
    dryRun: o.dryRun,
    onConflict: o.onConflict,
    remapKeys: o.remapKeys,
  };
  const seconds = () => ({ seconds: Number(((performance.now() - started) / 1000).toFixed(3)) });
  let plan: TransferPlan | undefined;
  try {
    const { value, attempts } = await withRetries(
      () =>
        inTransferSnapshot(
          ctx,
          o.dryRun ? [] : [o.from, o.to],
          async (tx) => {
            const client = tx.client;
            const [source, target] = await usableTenants(client, ctx, [o.from, o.to]);
            plan = planTransfer(await readCatalog(client, source!.schema), await readCatalog(client, target!.schema), {
              ...o,
              move: operation === 'move',
              ownershipColumn: ctx.config.ownershipColumn,
              mirrored,
            });
            const run = await executePlan(client, ctx, plan, {
              move: operation === 'move',
              onConflict: o.onConflict,
              where: o.where,
              dryRun: o.dryRun,
              source: source!,
              target: target!,
            });
            const result: TransferResult = {
              ...base,
              status: o.dryRun ? 'planned' : operation === 'move' ? 'moved' : 'copied',
              tables: run.tables,
              rows: run.rows,
              ...(operation === 'move' ? { deleted: run.deleted } : {}),
              cycles: cycles(plan),
              stats: seconds(),
            };
            if (o.dryRun) {
              tx.rollbackOnly();
              return result;
            }
            const detail = logDetail(o, result);
            tx.last(logOperationSql(ctx, operation, o.from, { ...detail, side: 'source' }));
            tx.last(logOperationSql(ctx, operation, o.to, { ...detail, side: 'target' }));
            return result;
          },
          hold ? { hold } : {},
        ),
      RETRIES,
    );
    return { ...value, ...(attempts > 1 ? { attempts } : {}), stats: seconds() };
  } catch (err) {
    const failure = asFailure(err);
    return {
      ...base,
      status: 'failed',
      tables: [],
      rows: 0,
      cycles: plan ? cycles(plan) : [],
      error: { code: failure.code, message: failure.message },
      ...(failure.conflicts ? { conflicts: failure.conflicts } : {}),
      stats: seconds(),
    };
  }
}

export function cycles(plan: TransferPlan): string[][] {
  return plan.groups.filter((g) => g.cyclic).map((g) => g.tables);
}

/** What the operations log keeps of a run: enough to tell what moved where, and how much. */
export function logDetail(
  o: Pick<ValidOptions, 'from' | 'to' | 'tables' | 'where' | 'onConflict' | 'remapKeys'>,
  r: TransferResult,
): Record<string, unknown> {
  return {
    from: o.from,
    to: o.to,
    tables: r.tables,
    rows: r.rows,
    ...(r.deleted !== undefined ? { deleted: r.deleted } : {}),
    onConflict: o.onConflict,
    remapKeys: o.remapKeys,
    ...(o.tables ? { only: o.tables } : {}),
    ...(o.where !== undefined ? { where: o.where } : {}),
  };
}
