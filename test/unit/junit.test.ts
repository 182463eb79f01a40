import { describe, expect, it } from 'vitest';
import type { CheckResult, VerifyResult, Violation } from '../../src/index.js';
import { junitXml, xmlEscape } from '../../src/verify/junit.js';

const check = (name: CheckResult['name'], seconds: number): CheckResult => ({
  name,
  ok: true,
  violations: 0,
  notes: 0,
  level: 'error',
  description: name,
  catalog: true,
  roundTrips: 1,
  seconds,
});

const violation = (v: Partial<Violation> & Pick<Violation, 'check' | 'tenant' | 'level'>): Violation => ({
  rule: 'test-rule',
  server: 'default',
  object: 'invoices',
  detail: 'a row of another tenant',
  remediation: 'fix the rows',
  ...v,
});

function result(violations: Violation[], failOn: VerifyResult['failOn'] = 'error'): VerifyResult {
  return {
    ok: false,
    failOn,
    tenants: [
      { id: 'acme', server: 'default', status: 'active', ok: true, violations: 0 },
      { id: 'globex', server: 'default', status: 'active', ok: true, violations: 0 },
    ],
    checks: [check('ownership', 0.25), check('registry', 0)],
    violations,
    notes: [],
    servers: [{ server: 'default', tenants: 2, checked: true }],
    unreachable: [],
    stats: { roundTrips: 2, seconds: 1.5 },
  };
}

describe('xmlEscape', () => {
  it('escapes the five XML entities', () => {
    expect(xmlEscape(`<a href="x">Tom & Jerry's</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;');
  });

  it('drops characters XML 1.0 forbids and keeps tab, newline, and characters beyond the BMP', () => {
    expect(xmlEscape('a\u0000b\u0007c\u001fd\uFFFEe')).toBe('abcde');
    expect(xmlEscape('t\tn\nr\r😀')).toBe('t\tn\nr\r😀');
  });
});

describe('junitXml', () => {
  it('a clean run: one suite per check, one passing case per tenant, no failures', () => {
    expect(junitXml(result([]))).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<testsuites name="tenantctl verify" tests="4" failures="0" errors="0" time="1.500">',
        '  <testsuite name="ownership" tests="2" failures="0" errors="0" skipped="0" time="0.250">',
        '    <testcase classname="tenantctl.verify.ownership" name="acme" time="0"/>',
        '    <testcase classname="tenantctl.verify.ownership" name="globex" time="0"/>',
        '  </testsuite>',
        '  <testsuite name="registry" tests="2" failures="0" errors="0" skipped="0" time="0.000">',
        '    <testcase classname="tenantctl.verify.registry" name="acme" time="0"/>',
        '    <testcase classname="tenantctl.verify.registry" name="globex" time="0"/>',
        '  </testsuite>',
        '</testsuites>',
        '',
      ].join('\n'),
    );
  });

  it('a violation is a <failure> carrying every field; a fleet finding gets its own "(fleet)" case', () => {
    const xml = junitXml(
      result([
        violation({ check: 'ownership', tenant: 'acme', level: 'error', detail: 'row with tenant_id <globex>' }),
        violation({ check: 'registry', tenant: null, level: 'error', object: 'schema tenant_ghost', detail: 'no registry row' }),
      ]),
    );
    expect(xml).toContain('<testsuites name="tenantctl verify" tests="5" failures="2" errors="0" time="1.500">');
    expect(xml).toContain('<testsuite name="ownership" tests="2" failures="1" errors="0" skipped="0" time="0.250">');
    expect(xml).toContain(
      [
        '    <testcase classname="tenantctl.verify.ownership" name="acme" time="0">',
        '      <failure type="error" message="invoices: row with tenant_id &lt;globex&gt;">check: ownership',
        'server: default',
        'tenant: acme',
        'object: invoices',
        'level: error',
        'detail: row with tenant_id &lt;globex&gt;',
        'remediation: fix the rows</failure>',
        '    </testcase>',
      ].join('\n'),
    );
    expect(xml).toContain('<testsuite name="registry" tests="3" failures="1" errors="0" skipped="0" time="0.000">');
    expect(xml).toContain('    <testcase classname="tenantctl.verify.registry" name="(fleet)" time="0">\n      <failure type="error"');
  });

  it('violations below --fail-on are listed in <system-out> and fail nothing', () => {
    const warn = violation({ check: 'ownership', tenant: 'globex', level: 'warn', detail: 'no index on tenant_id' });
    const xml = junitXml(result([warn]));
    expect(xml).toContain('failures="0"');
    expect(xml).not.toContain('<failure');
    expect(xml).toContain(
      '    <testcase classname="tenantctl.verify.ownership" name="globex" time="0">\n      <system-out>warn: invoices: no index on tenant_id</system-out>\n    </testcase>',
    );
    // The same warning fails with --fail-on warn.
    const strict = junitXml(result([warn], 'warn'));
    expect(strict).toContain('<testsuites name="tenantctl verify" tests="4" failures="1"');
    expect(strict).toContain('<failure type="warn" message="invoices: no index on tenant_id">');
    expect(strict).not.toContain('<system-out>');
  });

  it('over several servers: the body names the server, a server-wide finding gets "(server NAME)", an unreachable tenant an <error> in every suite', () => {
    const r = result([
      violation({
        check: 'registry',
        server: 'eu',
        tenant: null,
        level: 'error',
        object: 'schema tenant_ghost',
        detail: 'no registry row',
      }),
    ]);
    r.tenants.push({
      id: 'initech',
      server: 'asia',
      status: 'unreachable',
      ok: false,
      violations: 0,
      error: 'server "asia" cannot be reached: refused',
    });
    r.unreachable = [{ id: 'initech', server: 'asia', error: 'server "asia" cannot be reached: refused' }];
    const xml = junitXml(r);
    expect(xml).toContain('<testsuites name="tenantctl verify" tests="7" failures="1" errors="2" time="1.500">');
    expect(xml).toContain('    <testcase classname="tenantctl.verify.registry" name="(server eu)" time="0">');
    expect(xml).toContain('check: registry\nserver: eu\ntenant: (server eu)\n');
    expect(xml).toContain(
      '    <testcase classname="tenantctl.verify.ownership" name="initech" time="0">\n      <error type="unreachable" message="server &quot;asia&quot; cannot be reached: refused">server: asia\nserver &quot;asia&quot; cannot be reached: refused</error>\n    </testcase>',
    );
    expect(xml).toContain('<testsuite name="ownership" tests="3" failures="0" errors="1"');
  });
});
