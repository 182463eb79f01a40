import { describe, expect, it } from 'vitest';
import { ident, literal, qualified } from '../../src/util/quote.js';

describe('SQL quoting', () => {
  it('ident always double-quotes and doubles embedded quotes', () => {
    expect(ident('acme')).toBe('"acme"');
    expect(ident('Mixed Case')).toBe('"Mixed Case"');
    expect(ident('a"b')).toBe('"a""b"');
    expect(ident('x"; DROP TABLE t; --')).toBe('"x""; DROP TABLE t; --"');
    expect(ident('')).toBe('""');
  });

  it('qualified quotes schema and name separately', () => {
    expect(qualified('tenant_acme', 'customers')).toBe('"tenant_acme"."customers"');
    expect(qualified('a.b', 'c"d')).toBe('"a.b"."c""d"');
  });

  it('literal doubles single quotes and leaves the rest alone', () => {
    expect(literal('plain')).toBe("'plain'");
    expect(literal("O'Reilly")).toBe("'O''Reilly'");
    expect(literal('')).toBe("''");
    expect(literal('héllo "x"')).toBe(`'héllo "x"'`);
  });

  it('literal with a backslash doubles it and uses the E form, as pg escapeLiteral does', () => {
    expect(literal('a\\b')).toBe("E'a\\\\b'");
    expect(literal("\\'; --")).toBe("E'\\\\''; --'");
  });
});
