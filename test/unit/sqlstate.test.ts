import { describe, expect, it } from 'vitest';
import { classify, isConnectionLoss, isRetryable, SQLSTATE } from '../../src/sqlstate.js';
import {
  DatabaseError,
  InputError,
  RunFailure,
  TenantctlError,
  toTenantctlError,
  oneLine,
  tenantArchived,
  tenantLocked,
} from '../../src/errors.js';

const pgError = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('classify', () => {
  it.each([
    ['08006', 'connection'],
    ['08001', 'connection'],
    [SQLSTATE.ADMIN_SHUTDOWN, 'connection'],
    [SQLSTATE.CANNOT_CONNECT_NOW, 'connection'],
    [SQLSTATE.INVALID_PASSWORD, 'auth'],
    [SQLSTATE.INVALID_AUTHORIZATION, 'auth'],
    [SQLSTATE.INVALID_CATALOG_NAME, 'missing-database'],
    [SQLSTATE.LOCK_NOT_AVAILABLE, 'retryable'],
    [SQLSTATE.DEADLOCK_DETECTED, 'retryable'],
    [SQLSTATE.SERIALIZATION_FAILURE, 'retryable'],
    ['53300', 'retryable'],
    [SQLSTATE.QUERY_CANCELED, 'timeout'],
    [SQLSTATE.UNIQUE_VIOLATION, 'statement'],
    [SQLSTATE.DUPLICATE_OBJECT, 'statement'],
    [SQLSTATE.UNDEFINED_TABLE, 'statement'],
  ])('SQLSTATE %s is %s', (code, kind) => {
    expect(classify(pgError(code))).toBe(kind);
  });

  it('reads node socket errors and pg client messages as a lost connection', () => {
    expect(classify(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('connection');
    expect(classify(new Error('Connection terminated unexpectedly'))).toBe('connection');
    expect(isConnectionLoss(new Error('Client has encountered a connection error and is not queryable'))).toBe(true);
  });

  it('calls anything else a bug', () => {
    expect(classify(new TypeError('undefined is not a function'))).toBe('bug');
    expect(classify(undefined)).toBe('bug');
    expect(classify(Object.assign(new Error('x'), { code: 'not-a-sqlstate' }))).toBe('bug');
  });

  it('retryable means lock, deadlock, serialization or resources, nothing else', () => {
    expect(isRetryable(pgError('40001'))).toBe(true);
    expect(isRetryable(pgError('57014'))).toBe(false);
    expect(isRetryable(pgError('23505'))).toBe(false);
  });
});

describe('toTenantctlError', () => {
  it('maps each class to its code and exit code', () => {
    expect(toTenantctlError(pgError('08006'))).toMatchObject({ code: 'connection_failed', exitCode: 3 });
    expect(toTenantctlError(pgError('28P01'))).toMatchObject({ code: 'authentication_failed', exitCode: 3 });
    expect(toTenantctlError(pgError('3D000'))).toMatchObject({ code: 'database_missing', exitCode: 3 });
    expect(toTenantctlError(pgError('55P03'))).toMatchObject({ code: 'database_unavailable', exitCode: 3 });
    expect(toTenantctlError(pgError('23505'))).toBeInstanceOf(RunFailure);
    expect(toTenantctlError(pgError('23505'))).toMatchObject({ code: 'sql_error', exitCode: 1 });
    expect(toTenantctlError(new Error('oops'))).toMatchObject({ code: 'internal_error', exitCode: 4 });
  });

  it('keeps errors that already have a code, and folds messages onto one line', () => {
    const e = new InputError('usage', 'x');
    expect(toTenantctlError(e)).toBe(e);
    expect(toTenantctlError(pgError('42601', 'syntax error\nLINE 1: SELEC'))).toMatchObject({
      message: 'syntax error; LINE 1: SELEC (SQLSTATE 42601); nothing was changed',
    });
    expect(oneLine('a\n  b\n')).toBe('a; b');
  });

  it('factories give one wording per code', () => {
    expect(tenantArchived('acme')).toBeInstanceOf(InputError);
    expect(tenantArchived('acme').message).toBe('tenant "acme" is archived; restore it first with `tenantctl tenant restore acme`');
    expect(tenantLocked('acme')).toBeInstanceOf(DatabaseError);
    expect(tenantLocked('acme')).toMatchObject({ code: 'tenant_locked', exitCode: 3, details: { id: 'acme' } });
    expect(tenantLocked('acme')).toBeInstanceOf(TenantctlError);
  });
});
