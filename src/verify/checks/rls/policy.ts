// Reads a policy's expressions: does it confine rows to the current tenant, even when the tenant setting is unset?
/** A policy as the catalog holds it. */
export interface PolicyRow {
  name: string;
  /** r select, a insert, w update, d delete, * all. */
  cmd: string;
  permissive: boolean;
  using: string | null;
  check: string | null;
}

/** What a permissive policy admits beyond the current tenant. */
export interface PolicyLeak {
  /** policy: does not confine at all; policy-unset: admits rows when the tenant setting is unset or empty. */
  rule: 'policy' | 'policy-unset';
  detail: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Splits a deparsed expression on a keyword (OR, AND) at the top level: outside parentheses and quotes. */
export function splitTop(expr: string, word: 'OR' | 'AND'): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  const sep = ` ${word} `;
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (ch === "'") quoted = !quoted;
    else if (quoted) continue;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && expr.startsWith(sep, i)) {
      parts.push(expr.slice(start, i));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  parts.push(expr.slice(start));
  return parts.map((p) => p.trim());
}

/** The expression without parentheses that wrap all of it. */
function unwrap(expr: string): string {
  let e = expr.trim();
  for (;;) {
    if (!e.startsWith('(') || !e.endsWith(')')) return e;
    let depth = 0;
    let quoted = false;
    for (let i = 0; i < e.length; i++) {
      const ch = e[i];
      if (ch === "'") quoted = !quoted;
      else if (quoted) continue;
      else if (ch === '(') depth++;
      else if (ch === ')' && --depth === 0 && i < e.length - 1) return e;
    }
    e = e.slice(1, -1).trim();
  }
}

const CONTEXT = /current_setting\s*\(|\bcurrent_user\b|\bsession_user\b|\bcurrent_role\b/i;
/** Forms that let a comparison through when the setting is unset or empty. */
const UNSET = /\bIS\s+NULL\b|\bCASE\b|\bcoalesce\s*\(|''/i;

/**
 * Does an expression confine rows to the current tenant? Read structurally:
 * every top-level OR branch must confine (one that does not admits its rows),
 * one AND branch suffices; a single comparison confines when it names the
 * ownership column once and the session's tenant (current_setting(...),
 * current_user, session_user, current_role), with nothing that admits rows
 * when the setting is unset or empty (IS NULL, CASE, coalesce, ''). A
 * heuristic: an expression crafted to defeat it is not caught.
 */
export function confinesToTenant(expr: string | null, column: string): boolean {
  return reading(expr, column) === 'confines';
}

type Reading = 'confines' | 'open' | 'unset';

function reading(expr: string | null, column: string): Reading {
  if (expr === null) return 'open';
  const e = unwrap(expr);
  const ors = splitTop(e, 'OR');
  if (ors.length > 1) {
    const parts = ors.map((p) => reading(p, column));
    if (parts.every((p) => p === 'confines')) return 'confines';
    // One branch confines and another only tests the setting: rows when it is unset.
    return parts.some((p) => p === 'confines') && ors.some((p, i) => parts[i] !== 'confines' && CONTEXT.test(p)) ? 'unset' : 'open';
  }
  const ands = splitTop(e, 'AND');
  if (ands.length > 1) {
    const parts = ands.map((p) => reading(p, column));
    return parts.includes('confines') ? 'confines' : parts.includes('unset') ? 'unset' : 'open';
  }
  const col = new RegExp(`(^|[^A-Za-z0-9_$])"?${escapeRegExp(column)}"?($|[^A-Za-z0-9_$])`, 'g');
  const uses = e.match(col)?.length ?? 0;
  if (uses === 0 || !CONTEXT.test(e)) return 'open';
  if (uses > 1 || UNSET.test(e)) return 'unset';
  return 'confines';
}

/**
 * What a permissive policy admits beyond the current tenant: rows it lets a
 * tenant read (USING, for select/update/delete/all) and rows it lets a tenant
 * write (WITH CHECK, or USING when there is none, for insert/update/all).
 * A missing expression adds nothing: Postgres then admits no rows through it.
 */
export function policyLeaks(p: PolicyRow, column: string): PolicyLeak[] {
  if (!p.permissive) return [];
  const leaks: PolicyLeak[] = [];
  const unset = ': it admits rows when the tenant setting is unset or empty (a connection that never called withTenant sees them)';
  const using = p.using === null ? 'confines' : reading(p.using, column);
  if ('rwd*'.includes(p.cmd) && using !== 'confines') {
    leaks.push(
      using === 'unset'
        ? { rule: 'policy-unset', detail: `USING (${p.using})${unset}` }
        : { rule: 'policy', detail: `USING (${p.using}) does not confine rows to the current tenant` },
    );
  }
  const check = p.cmd === 'a' ? p.check : (p.check ?? p.using);
  const checked = check === null ? 'confines' : reading(check, column);
  if ('aw*'.includes(p.cmd) && checked !== 'confines') {
    const rule = checked === 'unset' ? 'policy-unset' : 'policy';
    if (p.check !== null || p.cmd === 'a')
      leaks.push({
        rule,
        detail: `WITH CHECK (${check}) admits rows of any tenant${checked === 'unset' ? ' when the tenant setting is unset or empty' : ''}`,
      });
    else if (!leaks.length) leaks.push({ rule, detail: `USING (${check}) (also its WITH CHECK) admits rows of any tenant` });
  }
  return leaks;
}
