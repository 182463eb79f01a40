// The fleet as verify sees it: every server's registry read once, the placements map, and where the two disagree.
import type { Context } from '../context.js';
import { controlReady } from '../control/ensure.js';
import { isPlacedOn, readPlacements, type Placement } from '../control/placements.js';
import { readTenants, type TenantWithJournal } from '../control/tenants.js';
import { DatabaseError, describeError, serverUnreachable, unknownTenants } from '../errors.js';
import { serverContext } from '../runtime/servers.js';
import { classify } from '../sqlstate.js';
import type { Finding, ServerVerdict } from './types.js';

const HOME = 'default';

/** One server whose checks run: its context, every registry row there, and its tenants this run reports on. */
export interface ServerPlan {
  server: string;
  ctx: Context;
  registry: TenantWithJournal[];
  tenants: TenantWithJournal[];
}

export interface VerifyFleet {
  /** The servers whose checks run, home first. */
  plans: ServerPlan[];
  servers: ServerVerdict[];
  /** Tenants on servers that could not be read. */
  unreachable: { id: string; server: string; error: string }[];
  /** Tenants only the map knows of (their server has no row for them, or is not in the config). */
  missing: { id: string; server: string }[];
  /** The registry against the map and the servers, found without a query of its own (registry check's rules). */
  findings: Finding[];
  /** Every tenant's key over the fleet (the map's for servers not read). */
  fleetKeys: { id: string; key: string; server: string }[];
}

/** Why a server could not be read, when that is the reason (connection, authentication, a missing database); else undefined. */
export function unreachableReason(err: unknown): string | undefined {
  if (err instanceof DatabaseError) return err.message;
  const kind = classify(err);
  if (kind === 'connection' || kind === 'auth' || kind === 'missing-database' || kind === 'retryable') return describeError(err);
  return undefined;
}

type ServerRead = { server: string; ctx: Context; ready: boolean; rows: TenantWithJournal[] } | { server: string; error: string };

/** A server's registry (nothing when it has no control schema); a server that cannot be read is an answer, not a throw. */
async function readServer(ctx: Context, server: string): Promise<ServerRead> {
  try {
    const sctx = serverContext(ctx, server);
    const ready = await controlReady(sctx);
    return { server, ctx: sctx, ready, rows: ready ? await readTenants(sctx.pool, sctx) : [] };
  } catch (err) {
    const why = unreachableReason(err);
    if (why === undefined) throw err;
    return { server, error: serverUnreachable(server, `cannot be reached: ${why}`).message };
  }
}

const LEFTOVER_FIX =
  'rerun the interrupted command (`tenant create <id> --server <name>` adopts the row; `tenant relocate` finishes the move), or drop its schema, role and registry row on that server';

/**
 * Reads the fleet for verify: the home registry and the placements map (one query each, side by
 * side), then the registry of every other server (one query each, all at once; with --tenant only
 * the servers of the named tenants). A registry row is a tenant where the map points (see
 * isPlacedOn); every other row is a leftover: reported when it is active or suspended, and kept in
 * its server's registry so that its schema and role are not called orphans.
 */
export async function readVerifyFleet(ctx: Context, wanted: readonly string[] | undefined): Promise<VerifyFleet> {
  const named = wanted ? new Set(wanted) : undefined;
  const [homeRows, placements] = await Promise.all([readTenants(ctx.pool, ctx), readPlacements(ctx.pool, ctx)]);
  const configured = ctx.servers.names().filter((s) => s !== HOME);
  const placedOn = (server: string) => [...placements.values()].filter((p) => p.server === server);
  const findings: Finding[] = [];
  const missing: { id: string; server: string }[] = [];
  for (const p of placements.values()) {
    if (ctx.servers.has(p.server)) continue;
    missing.push({ id: p.id, server: p.server });
    findings.push({
      rule: 'placement-server',
      server: HOME,
      tenant: p.id,
      object: `placement ${p.id}`,
      detail: `the placements map puts tenant ${p.id} on server "${p.server}", which the config's "servers" does not list: it is not verified`,
      level: 'error',
      remediation: `add server "${p.server}" to the config's "servers" (is this another environment's config?), or point the map at the server that holds the tenant`,
    });
  }
  const toRead = named ? configured.filter((s) => placedOn(s).some((p) => named.has(p.id))) : configured;
  const reads = await Promise.all(toRead.map((s) => readServer(ctx, s)));

  const plans: ServerPlan[] = [];
  const servers: ServerVerdict[] = [];
  const unreachable: VerifyFleet['unreachable'] = [];
  const keys = new Map<string, { id: string; key: string; server: string }>();
  const homeTenants = homeRows.filter((r) => isPlacedOn(placements, HOME, r.id));
  for (const t of homeTenants) keys.set(t.id, { id: t.id, key: t.key, server: HOME });
  for (const p of placements.values()) keys.set(p.id, { id: p.id, key: p.key, server: p.server });
  const pick = (rows: TenantWithJournal[]) => (named ? rows.filter((t) => named.has(t.id) && !t.pooled) : rows);

  findings.push(...leftovers(HOME, homeRows, placements));
  const home: ServerPlan = { server: HOME, ctx, registry: homeRows, tenants: pick(homeTenants) };
  const homeChecked = !named || home.tenants.length > 0;
  if (homeChecked) plans.push(home);
  servers.push({ server: HOME, tenants: home.tenants.length, checked: homeChecked });

  for (const read of reads) {
    const mine = placedOn(read.server);
    if ('error' in read) {
      for (const p of mine) unreachable.push({ id: p.id, server: read.server, error: read.error });
      servers.push({ server: read.server, tenants: 0, checked: false, error: read.error });
      continue;
    }
    const byId = new Map(read.rows.map((r) => [r.id, r]));
    for (const p of mine) {
      const row = byId.get(p.id);
      if (!row) {
        missing.push({ id: p.id, server: read.server });
        findings.push({
          rule: 'placement-missing',
          server: read.server,
          tenant: p.id,
          object: `placement ${p.id}`,
          detail: `the placements map puts tenant ${p.id} on this server, which has no registry row for it${read.ready ? '' : ' (it has no control schema)'}: the map is wrong, or the tenant was dropped here by hand`,
          level: 'error',
          remediation: `if the tenant lives on another server, rerun the interrupted \`tenant relocate\` (or point the map there); if it is gone, restore it from a backup, or delete its row from the placements map`,
        });
      } else if (row.key !== p.key) {
        findings.push({
          rule: 'placement-key',
          server: read.server,
          tenant: p.id,
          object: `placement ${p.id}`,
          detail: `the placements map gives tenant ${p.id} the key '${p.key}', its registry row here the key '${row.key}': new tenants' keys are checked against the map's`,
          level: 'warn',
          remediation: "set the placement's tenant_key to the key of the tenant's registry row",
        });
      }
    }
    const tenants = read.rows.filter((r) => isPlacedOn(placements, read.server, r.id));
    for (const t of tenants) keys.set(t.id, { id: t.id, key: t.key, server: read.server });
    findings.push(...leftovers(read.server, read.rows, placements));
    if (!read.ready) {
      findings.push({
        rule: 'not-initialised',
        server: read.server,
        tenant: null,
        object: `control schema ${ctx.config.controlSchema}`,
        detail: 'does not exist on this server: there is nothing to verify there',
        level: 'info',
        remediation: 'run `tenantctl init` (it initialises every server of the config)',
      });
      servers.push({ server: read.server, tenants: 0, checked: false });
      continue;
    }
    const plan: ServerPlan = { server: read.server, ctx: read.ctx, registry: read.rows, tenants: pick(tenants) };
    const checked = !named || plan.tenants.length > 0;
    if (checked) plans.push(plan);
    servers.push({ server: read.server, tenants: plan.tenants.length, checked });
  }
  // Servers not read (with --tenant, those of no named tenant).
  for (const s of configured) if (!servers.some((v) => v.server === s)) servers.push({ server: s, tenants: 0, checked: false });

  if (named) {
    const known = new Set([...homeTenants.filter((t) => !t.pooled).map((t) => t.id), ...placements.keys()]);
    const unknown = [...named].filter((id) => !known.has(id));
    if (unknown.length > 0) throw unknownTenants(unknown);
  }
  const about = <T extends { id: string }>(list: T[]) => (named ? list.filter((x) => named.has(x.id)) : list);
  return {
    plans,
    servers,
    unreachable: about(unreachable).sort((a, b) => (a.id < b.id ? -1 : 1)),
    missing: about(missing).sort((a, b) => (a.id < b.id ? -1 : 1)),
    findings: named ? findings.filter((f) => f.tenant !== null && named.has(f.tenant)) : findings,
    fleetKeys: [...keys.values()],
  };
}

/**
 * The active or suspended rows of a server that the map does not point at: leftovers (archived ones
 * are kept copies; a spare of another server's pool is placed only when `tenant create` takes it).
 */
function leftovers(server: string, rows: readonly TenantWithJournal[], placements: ReadonlyMap<string, Placement>): Finding[] {
  return rows
    .filter((r) => r.status !== 'archived' && !(r.pooled && server !== 'default') && !isPlacedOn(placements, server, r.id))
    .map((r): Finding => {
      const elsewhere = placements.get(r.id)?.server;
      const map = elsewhere
        ? `the placements map puts tenant ${r.id} on server "${elsewhere}"`
        : `the placements map does not put tenant ${r.id} here (an id without a placement lives on the home server)`;
      return {
        rule: 'unplaced',
        server,
        tenant: r.id,
        object: `registry row ${r.id}`,
        detail: `is a tenant row here (${r.status}, schema ${r.schema}), but ${map}: a leftover of an interrupted ${elsewhere ? 'relocation' : '`tenant create --server` or relocation'}; not verified`,
        level: 'warn',
        remediation: LEFTOVER_FIX,
      };
    });
}
