import { InputError } from '../errors.js';

const TENANT_ID = /^[a-z][a-z0-9_]{0,39}$/;

/** Refuses anything that is not a tenant id, before any SQL runs. */
export function assertTenantId(id: string): void {
  if (TENANT_ID.test(id)) return;
  const shown = JSON.stringify(id);
  let why = 'must start with a lowercase letter and hold only lowercase letters, digits or _';
  if (id.length === 0) why = 'is empty';
  else if (id.length > 40) why = `is ${id.length} characters long; the limit is 40`;
  throw new InputError('invalid_tenant_id', `invalid tenant id ${shown}: it ${why}`, { id });
}

/** Names a tenant's schema may not take: the catalog's, the shared and control schemas. */
export function assertSchemaNameAllowed(id: string, schema: string, reserved: { controlSchema: string; sharedSchema: string }): void {
  const bad =
    schema === 'public' ||
    schema === 'information_schema' ||
    schema.startsWith('pg_') ||
    schema === reserved.controlSchema ||
    schema === reserved.sharedSchema;
  if (bad) {
    throw new InputError(
      'reserved_tenant_id',
      `tenant id ${JSON.stringify(id)} is reserved: its schema would be ${JSON.stringify(schema)}; pick another id`,
      { id },
    );
  }
}

export function uniqueIds(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/** Text that PostgreSQL can store: no NUL byte, no lone UTF-16 surrogate. Exit 2 naming the flag otherwise. */
export function assertText(flag: string, value: string): void {
  if (value.includes('\u0000')) throw new InputError('invalid_text', `${flag} holds a NUL byte, which PostgreSQL text cannot store`);
  if (LONE_SURROGATE.test(value)) throw new InputError('invalid_text', `${flag} holds a lone UTF-16 surrogate, which is not valid text`);
}
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
