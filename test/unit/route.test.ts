import { describe, expect, it } from 'vitest';
import { assertOneServer } from '../../src/runtime/route.js';
import { assertServerName } from '../../src/db/servers.js';
import { InputError } from '../../src/index.js';

describe('two tenants on one server', () => {
  it('gives the server both are on', () => {
    expect(assertOneServer('copy', { id: 'a', server: 'eu' }, { id: 'b', server: 'eu' })).toBe('eu');
    expect(assertOneServer('copy', { id: 'a' }, { id: 'b', server: 'default' })).toBe('default');
  });

  it('refuses tenants on different servers with exit 2, naming tenant relocate', () => {
    let caught: unknown;
    try {
      assertOneServer('move', { id: 'a', server: 'default' }, { id: 'b', server: 'eu' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect(caught).toMatchObject({
      code: 'different_servers',
      exitCode: 2,
      message:
        'tenants "a" (server default) and "b" (server eu) are on different servers; move works within one server; move a whole tenant with `tenantctl tenant relocate b --to default`',
    });
  });
});

describe('--server names', () => {
  it('takes a config name or default, refuses anything else', () => {
    for (const ok of ['default', 'eu', 'eu_2']) expect(() => assertServerName(ok)).not.toThrow();
    for (const bad of ['', 'EU', '2eu', 'eu-west', 'a'.repeat(41)]) expect(() => assertServerName(bad)).toThrow(InputError);
  });
});
