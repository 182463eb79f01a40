// `migrate lint` without files: the migrations not yet applied to some active tenant (and pending shared
// ones), linted once per distinct pending list so "created earlier in the run" holds for every tenant.
import type { Context } from '../context.js';
import { migrateStatus } from '../migrate/status.js';
import { renderMigration, type RenderedMigration } from '../migrations/render.js';
import type { LoadedMigration } from '../migrations/types.js';
import { sharedMigrations, tenantMigrations } from '../runtime/migration-files.js';
import { parseFailOn } from '../verify/run.js';
import { lintRun } from './lint-run.js';
import { citusOf } from '../citus/detect.js';
import { DEFAULT_CITUS_CONFIG } from '../config/types.js';
import { lintResult } from './result.js';
import type { LintFinding, LintResult } from './types.js';

export interface LintPendingOptions {
  /** Only what is pending for these tenants (default: every active tenant). */
  tenants?: string[];
  failOn?: string;
}

export async function lintPending(ctx: Context, options: LintPendingOptions = {}): Promise<LintResult> {
  const failOn = parseFailOn(options.failOn);
  const status = await migrateStatus(ctx, { tenants: options.tenants });
  const named = options.tenants !== undefined && options.tenants.length > 0;
  const tenantFiles = await tenantMigrations(ctx);
  const sharedFiles = await sharedMigrations(ctx);
  const rendered = new Map<string, RenderedMigration>();
  const render = async (m: LoadedMigration) => {
    if (!rendered.has(m.path)) rendered.set(m.path, await renderMigration(m));
    return rendered.get(m.path)!;
  };
  // Citus's rules apply to tenant migrations (distributed schemas), when the config says Citus or init recorded it.
  const citusSettings = ctx.config.citus ?? ((await citusOf(ctx)) ? DEFAULT_CITUS_CONFIG : null);
  const citus = citusSettings ? { referenceTables: citusSettings.referenceTables, sharedSchema: ctx.config.sharedSchema } : undefined;
  const runs: LoadedMigration[][] = [];
  const pick = (files: typeof tenantFiles, names: readonly string[]) => names.flatMap((n) => files.byName.get(n) ?? []);
  if (status.shared.pending.length > 0) runs.push(pick(sharedFiles, status.shared.pending));
  const lists = new Set<string>();
  for (const t of status.tenants) {
    if (t.status === 'archived' || (!named && t.status !== 'active') || t.pending.length === 0) continue;
    const key = t.pending.join('\0');
    if (lists.has(key)) continue;
    lists.add(key);
    runs.push(pick(tenantFiles, t.pending));
  }
  const findings: LintFinding[] = [];
  for (const run of runs) {
    const list = [];
    for (const m of run) list.push(await render(m));
    const tenantRun = run.some((m) => tenantFiles.byName.get(m.name) === m);
    findings.push(...(await lintRun(list, tenantRun && citus ? { citus } : {})));
  }
  // Shared files first, then tenant files, each in file order.
  const order = [...sharedFiles.list, ...tenantFiles.list].flatMap((m) => rendered.get(m.path) ?? []);
  return lintResult(order, findings, failOn);
}
