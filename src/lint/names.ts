// Names out of parse-tree nodes: a relation, a type, a function, a list of strings.
import type { FuncCall, Node, RangeVar, TypeName } from 'libpg-query';

/** The table's name as the run tracks it: schema-qualified names and bare names meet on the bare name. */
export function relName(rel: RangeVar | undefined): string {
  return rel?.relname ?? '';
}

/** For messages: schema.name when it was written qualified. */
export function shownRel(rel: RangeVar | undefined): string {
  return rel?.schemaname ? `${rel.schemaname}.${rel.relname ?? ''}` : (rel?.relname ?? '');
}

export function strings(list: Node[] | undefined): string[] {
  return (list ?? []).flatMap((n) => ('String' in n && n.String.sval !== undefined ? [n.String.sval] : []));
}

/** A type's own name, without pg_catalog: "int4", "varchar", "text". */
export function typeName(t: TypeName | undefined): string {
  return strings(t?.names).at(-1) ?? '';
}

export function funcName(f: FuncCall): string {
  return (strings(f.funcname).at(-1) ?? '').toLowerCase();
}
