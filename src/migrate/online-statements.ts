// A non-transactional migration's SQL as single statements (outside a transaction each one must travel
// alone), and what each one builds or changes that an interruption can leave half-done.
import { parseStatements } from '../util/pg-parser.js';

/** A name as written in the SQL: schema-qualified or resolved through the tenant's search_path. */
export interface WrittenName {
  schema?: string;
  name: string;
}

export type Interruptible =
  /** CREATE INDEX: an interrupted CONCURRENTLY build leaves an INVALID index of that name. */
  | { kind: 'create-index'; index: WrittenName | undefined; table: WrittenName; ifNotExists: boolean }
  /** REINDEX ... CONCURRENTLY: an interrupted one leaves INVALID <index>_ccnew / _ccold copies. */
  | { kind: 'reindex'; target: WrittenName; object: 'index' | 'table' }
  /** ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY: an interrupted one leaves the partition pending detach. */
  | { kind: 'detach'; parent: WrittenName; partition: WrittenName };

export interface OnlineStatement {
  sql: string;
  /** Set when an interruption can leave this statement half-done. */
  interruptible?: Interruptible;
}

/** Splits the builder's steps into statements with PostgreSQL's parser. A step that does not parse goes as it is: the server names the error. */
export async function splitStatements(steps: readonly string[]): Promise<OnlineStatement[]> {
  const out: OnlineStatement[] = [];
  for (const step of steps) {
    const parsed = await parseStatements(step);
    if (!parsed) {
      out.push({ sql: step });
      continue;
    }
    const bytes = Buffer.from(step, 'utf8');
    for (const st of parsed) {
      const sql = bytes
        .subarray(st.offset, st.offset + st.length)
        .toString('utf8')
        .trim();
      const interruptible = classify(st.type, st.node);
      out.push(interruptible ? { sql, interruptible } : { sql });
    }
  }
  return out;
}

type RangeVar = { schemaname?: string; relname?: string } | undefined;

function written(r: RangeVar): WrittenName | undefined {
  if (!r?.relname) return undefined;
  return r.schemaname ? { schema: r.schemaname, name: r.relname } : { name: r.relname };
}

function classify(type: string, node: Record<string, unknown>): Interruptible | undefined {
  if (type === 'IndexStmt') {
    const table = written(node.relation as RangeVar);
    if (!table) return undefined;
    const schema = (node.relation as RangeVar)?.schemaname;
    const index = typeof node.idxname === 'string' ? { ...(schema ? { schema } : {}), name: node.idxname } : undefined;
    return { kind: 'create-index', index, table, ifNotExists: node.if_not_exists === true };
  }
  if (type === 'ReindexStmt') {
    const params = (node.params as { DefElem?: { defname?: string } }[] | undefined) ?? [];
    const target = written(node.relation as RangeVar);
    const object = node.kind === 'REINDEX_OBJECT_INDEX' ? 'index' : node.kind === 'REINDEX_OBJECT_TABLE' ? 'table' : undefined;
    if (!target || !object || !params.some((p) => p.DefElem?.defname === 'concurrently')) return undefined;
    return { kind: 'reindex', target, object };
  }
  if (type === 'AlterTableStmt') {
    const cmds =
      (node.cmds as
        { AlterTableCmd?: { subtype?: string; def?: { PartitionCmd?: { name?: RangeVar; concurrent?: boolean } } } }[] | undefined) ?? [];
    const parent = written(node.relation as RangeVar);
    const detach = cmds.find((c) => c.AlterTableCmd?.subtype === 'AT_DetachPartition' && c.AlterTableCmd.def?.PartitionCmd?.concurrent);
    const partition = written(detach?.AlterTableCmd?.def?.PartitionCmd?.name);
    if (!parent || !partition || cmds.length !== 1) return undefined;
    return { kind: 'detach', parent, partition };
  }
  return undefined;
}
