// The drift check: each tenant's structure and trigger states against a replay of its migrations.
import type { Context } from '../../../context.js';
import type { TenantWithJournal } from '../../../control/tenants.js';
import type { Queryable } from '../../../db/types.js';
import { isConnectionLoss } from '../../../sqlstate.js';
import { describeError } from '../../../errors.js';
import type { LoadedMigration } from '../../../migrations/types.js';
import { diffStructure } from './diff.js';
import { buildReference, type Reference } from './reference.js';
import type { Digest, Entry } from './snapshot.js';
import { digestsSql, entriesSql, schemaOidsSql } from './structure-sql.js';
import { overArray, overGroups, overSchemas, relationsPerStatement, statementGroups, streamsOf } from './statements.js';
import type { CheckDefinition, Finding, VerifyScope } from '../../types.js';

interface Version {
  files: LoadedMigration[];
  label: string;
  tenants: TenantWithJournal[];
}

export const driftCheck: CheckDefinition = {
  id: 'drift',
  level: 'error',
  description:
    "each tenant schema's structure and behaviour (tables and their row level security, columns and types, indexes, constraints, views, functions, triggers and whether they are enabled, rules, policies, sequences, enum and domain types) against what the migrations produce at that tenant's version; missing, changed or disabled (error) and extra (warn) objects",
  remediation:
    'a missing or changed object: write a migration that fixes the tenant (or `tenantctl migrate down` and up again); an extra object made by hand: drop it, or add it to the migrations',
  catalog: true,
  ownLane: true,
  async run(scope) {
    const { ctx } = scope;
    // The digests need no migration file: they start at once, while the files load.
    const reading = tenantDigests(scope);
    reading.catch(() => undefined); // awaited below: a failure while the files load is not an unhandled rejection
    let files;
    try {
      files = await scope.migrations();
    } catch (err) {
      await reading.catch(() => undefined); // the session is free again before the check fails
      throw err;
    }
    const findings: Finding[] = [];
    const versions = new Map<string, Version>();
    for (const t of scope.tenants) {
      const gone = t.journal.filter((j) => !files.byName.has(j.name));
      if (gone.length > 0) {
        findings.push({
          rule: 'not-compared',
          tenant: t.id,
          object: `schema ${t.schema}`,
          detail: `not compared: its journal names ${gone.length} migration(s) not on disk (see the registry check)`,
          level: 'info',
        });
        continue;
      }
      const applied = new Set(t.journal.map((j) => j.name));
      const list = files.list.filter((f) => applied.has(f.name));
      const key = list.map((f) => f.name).join('\n');
      const v = versions.get(key) ?? { files: list, label: list.at(-1)?.name ?? '(no migrations)', tenants: [] };
      v.tenants.push(t);
      versions.set(key, v);
    }
    if (versions.size === 0) {
      await reading;
      return findings;
    }
    // The replays run on a session of their own while the digests are read (they wait on round trips, the digests on the server).
    const [{ digests, relations }, references] = await Promise.all([
      reading,
      scope.session((db) => buildReferences(ctx, db, [...versions.values()])),
    ]);
    const mismatched: { tenant: TenantWithJournal; version: Version; reference: Reference }[] = [];
    for (const [v, built] of references) {
      const present = v.tenants.filter((t) => digests.has(t.schema));
      if (!built.ok) {
        for (const t of present) {
          findings.push({
            rule: 'not-replayable',
            tenant: t.id,
            object: `schema ${t.schema}`,
            detail: `not compared: the migrations up to ${v.label} fail on a scratch schema: ${describeError(built.error)}`,
            level: 'warn',
            remediation: 'make the migrations replayable on an empty schema (they ran once for each tenant)',
          });
        }
        continue;
      }
      const reference = built.reference;
      for (const t of present) {
        if (digests.get(t.schema)!.digest !== reference.digest) mismatched.push({ tenant: t, version: v, reference });
      }
    }
    if (mismatched.length === 0) return findings;
    const actual = await tenantEntries(
      scope,
      mismatched.map((m) => digests.get(m.tenant.schema)!),
      relations,
    );
    for (const m of mismatched) {
      findings.push(...diffStructure(m.tenant.id, m.version.label, m.reference.entries, actual.get(m.tenant.schema) ?? []));
    }
    return findings;
  },
};

type Built = { ok: true; reference: Reference } | { ok: false; error: unknown };

/** Each version's reference, one after another on `db`: a replay that fails is a result (not-replayable), not an error. */
async function buildReferences(ctx: Context, db: Queryable, versions: readonly Version[]): Promise<Map<Version, Built>> {
  const out = new Map<Version, Built>();
  for (const v of versions) {
    try {
      out.set(v, { ok: true, reference: await buildReference(ctx, db, v.files) });
    } catch (err) {
      if (isConnectionLoss(err)) throw err;
      out.set(v, { ok: false, error: err });
    }
  }
  return out;
}

/**
 * From this many schemas on, the digests are read in two streams side by side (below, they take a few
 * tens of milliseconds: a second session would save little). test/verify-drift-locks.test.ts (80
 * tenants) runs both streams, each of several statements.
 */
const TWO_STREAMS_FROM = 50;

/**
 * One digest per existing schema of the selected tenants: the schemas' oids, their relations and
 * the server's lock table (one query), then their digests in statements sized by the lock table
 * (see statementGroups). From TWO_STREAMS_FROM schemas on they are two streams of about equal work
 * (streamsOf), each its statements in one message (see overGroups): the first on the check's
 * session, the second on another one in a statement slot of the server's (shared with the
 * ownership probes): the digests are most of
 * drift's time, and drift the longest lane, so the last lane running uses both of a server's cores
 * where it used one. Splitting costs little: each statement reads its own schemas' rows by
 * relation, and only pg_class, pg_constraint, pg_proc and pg_type once more.
 */
export async function tenantDigests(scope: VerifyScope): Promise<{ digests: Map<string, Digest>; relations: number }> {
  const schemas = scope.tenants.map((t) => t.schema);
  const found = await overArray<Omit<Digest, 'digest'> & { lock_slots: number; server_version: number }>(
    scope,
    schemaOidsSql,
    schemas,
    'text[]',
  );
  const serverVersion = found[0]?.server_version ?? 0;
  const digestsOf = (oids: string) => digestsSql(oids, serverVersion);
  const streams = found.length >= TWO_STREAMS_FROM ? 2 : 1;
  // the two streams' statements run side by side: they share the lock table's half
  const relations = relationsPerStatement(found[0]?.lock_slots ?? 0, streams);
  const [mine, other] = streamsOf(found, streams).map((part) => statementGroups(part, relations));
  const [first, second] = await Promise.all([
    overGroups<{ oid: string; digest: string }>(scope, digestsOf, mine ?? []),
    other
      ? scope.slots.run('drift', () => scope.session((db) => overGroups<{ oid: string; digest: string }>({ db }, digestsOf, other)))
      : [],
  ]);
  const digests = new Map([...first, ...second].map((d) => [d.oid, d.digest]));
  return {
    digests: new Map(
      found.map(({ oid, schema, relations: n }) => [schema, { oid, schema, relations: n, digest: digests.get(oid) ?? null }]),
    ),
    relations,
  };
}

/** The entries of the schemas whose digest differs from their reference (one message, see overSchemas). */
async function tenantEntries(scope: VerifyScope, schemas: readonly Digest[], relations: number): Promise<Map<string, Entry[]>> {
  const rows = await overSchemas<Entry & { oid: string }>(scope, entriesSql, schemas, relations);
  const names = new Map(schemas.map((s) => [s.oid, s.schema]));
  const out = new Map<string, Entry[]>();
  for (const { oid, kind, name, def } of rows) {
    const schema = names.get(oid)!;
    const list = out.get(schema) ?? [];
    list.push({ kind, name, def });
    out.set(schema, list);
  }
  return out;
}
