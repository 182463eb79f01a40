// A non-transactional migration's SQL made fit for a transaction that no one else can see into (a tenant
// being created): the CONCURRENTLY of its index, reindex and detach statements is dropped, nothing else.
import { parseStatements, scanTokens } from '../util/pg-parser.js';

function concurrent(type: string, node: Record<string, unknown>): boolean {
  if (type === 'IndexStmt' || type === 'DropStmt') return node.concurrent === true;
  if (type === 'ReindexStmt')
    return ((node.params as { DefElem?: { defname?: string } }[] | undefined) ?? []).some((p) => p.DefElem?.defname === 'concurrently');
  if (type === 'AlterTableStmt') {
    const cmds = (node.cmds as { AlterTableCmd?: { def?: { PartitionCmd?: { concurrent?: boolean } } } }[] | undefined) ?? [];
    return cmds.some((c) => c.AlterTableCmd?.def?.PartitionCmd?.concurrent === true);
  }
  return false;
}

/**
 * The same SQL without the CONCURRENTLY keyword of CREATE INDEX, DROP INDEX,
 * REINDEX and DETACH PARTITION statements, found with PostgreSQL's own parser
 * and scanner (a CONCURRENTLY in a string, a comment or another statement
 * stays). On tables created in the same transaction the plain forms build the
 * same objects. SQL that does not parse is returned as it is, for the server
 * to name the error.
 */
export async function withoutConcurrently(sql: string): Promise<string> {
  if (!/concurrently/i.test(sql)) return sql;
  const statements = await parseStatements(sql);
  if (!statements) return sql;
  const bytes = Buffer.from(sql, 'utf8');
  const cuts: { start: number; end: number }[] = [];
  for (const st of statements) {
    if (!concurrent(st.type, st.node)) continue;
    const text = bytes.subarray(st.offset, st.offset + st.length).toString('utf8');
    const keyword = (await scanTokens(text)).find((t) => t.keywordName !== 'NO_KEYWORD' && t.text.toUpperCase() === 'CONCURRENTLY');
    if (keyword) cuts.push({ start: st.offset + keyword.start, end: st.offset + keyword.end });
  }
  let out = Buffer.alloc(0);
  let at = 0;
  for (const cut of cuts) {
    out = Buffer.concat([out, bytes.subarray(at, cut.start)]);
    at = cut.end;
  }
  return Buffer.concat([out, bytes.subarray(at)]).toString('utf8');
}
