import type { Queryable } from '../db/types.js';

/** Where a tenant's distributed schema lives: the worker holding its shards, and their size. */
export interface Placement {
  host: string;
  port: number;
  sizeBytes: number;
}

/**
 * The placement of each of these schemas, in one query whatever their number
 * (Citus's catalog: pg_dist_schema for the schema's colocation group,
 * citus_shards for its shards' node and size, which asks each worker once).
 * A schema that is not distributed is absent; a distributed schema without a
 * table has no shard yet and is absent too (it lands on a worker with its first table).
 */
export async function readPlacements(db: Queryable, schemas: readonly string[]): Promise<Map<string, Placement>> {
  const out = new Map<string, Placement>();
  if (schemas.length === 0) return out;
  const r = await db.query<{ schema: string; host: string; port: number; size: string }>(
    `SELECT n.nspname AS schema, s.nodename AS host, s.nodeport AS port, sum(s.shard_size)::bigint::text AS size
       FROM pg_dist_schema d
       JOIN pg_namespace n ON n.oid = d.schemaid
       JOIN citus_shards s ON s.colocation_id = d.colocationid
      WHERE n.nspname = ANY($1)
      GROUP BY n.nspname, s.nodename, s.nodeport
      ORDER BY n.nspname, sum(s.shard_size) DESC`,
    [[...schemas]],
  );
  for (const row of r.rows) {
    // A schema mid-move can show on two nodes for an instant: the larger holds it.
    if (!out.has(row.schema)) out.set(row.schema, { host: row.host, port: row.port, sizeBytes: Number(row.size) });
  }
  return out;
}

/** The distributed schemas among these (pg_dist_schema), for verify and relocate. */
export async function distributedSchemas(db: Queryable, schemas: readonly string[]): Promise<Set<string>> {
  const r = await db.query<{ schema: string }>(
    `SELECT n.nspname AS schema FROM pg_dist_schema d JOIN pg_namespace n ON n.oid = d.schemaid WHERE n.nspname = ANY($1)`,
    [[...schemas]],
  );
  return new Set(r.rows.map((row) => row.schema));
}

/** The workers a schema may be placed on: active primaries that hold shards (not the coordinator unless it does). */
export async function workerNodes(db: Queryable): Promise<{ host: string; port: number }[]> {
  const r = await db.query<{ host: string; port: number }>(
    `SELECT nodename AS host, nodeport AS port FROM pg_dist_node
      WHERE noderole = 'primary' AND isactive AND shouldhaveshards ORDER BY nodename, nodeport`,
  );
  return r.rows;
}

/** Tables of these schemas with neither a primary key nor a replica identity: an online move cannot carry their UPDATEs and DELETEs. */
export async function tablesWithoutReplicaIdentity(db: Queryable, schemas: readonly string[]): Promise<string[]> {
  const r = await db.query<{ name: string }>(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relkind = 'r'
        AND (c.relreplident = 'n'
          OR (c.relreplident = 'd' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))
          OR (c.relreplident = 'i' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)))
      ORDER BY 1`,
    [[...schemas]],
  );
  return r.rows.map((row) => row.name);
}
