// Reads a policy's expressions: does it confine rows to the current tenant?
/** A policy as the catalog holds it. */
export interface PolicyRow {
  name: string;
  /** r select, a insert, w update, d delete, * all. */
  cmd: string;
  permissive: boolean;
  using: string | null;
  check: string | null;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Does an expression confine rows to the current tenant? It must compare the
 * ownership column with something that names the tenant of the session:
 * current_setting(...) (withTenant sets tenantctl.tenant_key), current_user,
 * session_user or current_role. A heuristic: `USING (true)` and
 * `tenant_id IS NOT NULL` fail it; an expression crafted to defeat it is not
 * caught.
 */
export function confinesToTenant(expr: string | null, column: string): boolean {
  if (expr === null) return false;
  const col = new RegExp(`(^|[^A-Za-z0-9_$])"?${escapeRegExp(column)}"?($|[^A-Za-z0-9_$])`);
  const context = /current_setting\s*\(|\bcurrent_user\b|\bsession_user\b|\bcurrent_role\b/i;
  const widened = /\bOR\s+true\b|\btrue\s+OR\b/i;
  return col.test(expr) && context.test(expr) && !widened.test(expr);
}

/**
 * What a permissive policy admits beyond the current tenant: rows it lets a
 * tenant read (USING, for select/update/delete/all) and rows it lets a tenant
 * write (WITH CHECK, or USING when there is none, for insert/update/all).
 * A missing expression adds nothing: Postgres then admits no rows through it.
 */
export function policyLeaks(p: PolicyRow, column: string): string[] {
  if (!p.permissive) return [];
  const leaks: string[] = [];
  if ('rwd*'.includes(p.cmd) && p.using !== null && !confinesToTenant(p.using, column)) {
    leaks.push(`USING (${p.using}) does not confine rows to the current tenant`);
  }
  const check = p.cmd === 'a' ? p.check : (p.check ?? p.using);
  if ('aw*'.includes(p.cmd) && check !== null && !confinesToTenant(check, column)) {
    if (p.check !== null || p.cmd === 'a') leaks.push(`WITH CHECK (${check}) admits rows of any tenant`);
    else if (!leaks.length) leaks.push(`USING (${check}) (also its WITH CHECK) admits rows of any tenant`);
  }
  return leaks;
}
