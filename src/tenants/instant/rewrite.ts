import type { Template } from '../../control/templates.js';
import { ident } from '../../util/quote.js';

/**
 * A captured script made into one tenant's: every name of the template's
 * (schema, role; quoted where the script names objects, bare where text holds
 * them) and the id and key it was built with become the tenant's. The
 * template's names hold a "$" and a random part, so nothing else matches.
 */
export interface TenantNames {
  schema: string;
  role: string | null;
  id: string;
  key: string;
}

/** The tenant's script; undefined when its key cannot be written into the rows safely (then it is built by replay). */
export function scriptFor(template: Template, tenant: TenantNames): string | undefined {
  if (template.perTenant && !SAFE_TEXT.test(tenant.key)) return undefined;
  const pairs: [string, string][] = [[ident(template.schema), ident(tenant.schema)]];
  if (template.role && tenant.role) pairs.push([ident(template.role), ident(tenant.role)]);
  pairs.push([template.schema, tenant.schema]);
  if (template.role && tenant.role) pairs.push([template.role, tenant.role]);
  // Key and id placeholders after the names: they hold none of them.
  pairs.push([template.tenantKey, tenant.key], [template.tenantId, tenant.id]);
  let text = template.script;
  for (const [from, to] of pairs) text = text.split(from).join(to);
  return text;
}

/** A key that reads the same inside a string literal, a quoted identifier, JSON and a dollar-quoted body. */
const SAFE_TEXT = /^[A-Za-z0-9_.:@-]*$/;
