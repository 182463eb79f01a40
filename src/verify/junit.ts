// JUnit XML of a verify result.
import { fails, type Violation, type VerifyResult } from './types.js';

/** Text fit for XML: the five entities escaped, characters XML 1.0 forbids dropped. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** The name of the test case for violations that concern no single tenant (the shared schema, the fleet). */
export const FLEET_CASE = '(fleet)';

/** The case of a violation about no single tenant: "(fleet)" on the home server, "(server eu)" on another. */
export function fleetCase(server: string): string {
  return server === 'default' ? FLEET_CASE : `(server ${server})`;
}

function body(v: Violation): string {
  return [
    `check: ${v.check}`,
    `server: ${v.server}`,
    `tenant: ${v.tenant ?? fleetCase(v.server)}`,
    `object: ${v.object}`,
    `level: ${v.level}`,
    `detail: ${v.detail}`,
    `remediation: ${v.remediation}`,
  ].join('\n');
}

/**
 * JUnit XML as CI systems read it: a test suite per check, a test case per
 * check and tenant (plus "(fleet)" for findings about no single tenant), a
 * <failure> per violation at or above --fail-on; violations below it are
 * listed in the case's <system-out>, so they show without failing the build.
 * A tenant on a server that could not be read gets an <error> in every suite
 * (it was not verified).
 */
export function junitXml(result: VerifyResult): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const failing = result.violations.filter((v) => fails(v.level, result.failOn)).length;
  const unreachable = new Map(result.unreachable.map((u) => [u.id, u]));
  const suites: string[] = [];
  let total = 0;
  let errors = 0;
  for (const check of result.checks) {
    const mine = result.violations.filter((v) => v.check === check.name);
    const cases = new Map<string, Violation[]>(result.tenants.map((t) => [t.id, []]));
    for (const v of mine) {
      const name = v.tenant ?? fleetCase(v.server);
      cases.set(name, [...(cases.get(name) ?? []), v]);
    }
    const failures = mine.filter((v) => fails(v.level, result.failOn)).length;
    const errored = [...cases.keys()].filter((id) => unreachable.has(id)).length;
    total += cases.size;
    errors += errored;
    const lines = [
      `  <testsuite name="${xmlEscape(check.name)}" tests="${cases.size}" failures="${failures}" errors="${errored}" skipped="0" time="${check.seconds.toFixed(3)}">`,
    ];
    for (const [tenant, list] of cases) {
      const bad = list.filter((v) => fails(v.level, result.failOn));
      const notes = list.filter((v) => !fails(v.level, result.failOn));
      const open = `    <testcase classname="tenantctl.verify.${xmlEscape(check.name)}" name="${xmlEscape(tenant)}" time="0"`;
      const lost = unreachable.get(tenant);
      if (list.length === 0 && !lost) {
        lines.push(`${open}/>`);
        continue;
      }
      lines.push(`${open}>`);
      if (lost)
        lines.push(
          `      <error type="unreachable" message="${xmlEscape(lost.error)}">${xmlEscape(`server: ${lost.server}\n${lost.error}`)}</error>`,
        );
      for (const v of bad) {
        lines.push(`      <failure type="${v.level}" message="${xmlEscape(`${v.object}: ${v.detail}`)}">${xmlEscape(body(v))}</failure>`);
      }
      if (notes.length > 0)
        lines.push(`      <system-out>${xmlEscape(notes.map((v) => `${v.level}: ${v.object}: ${v.detail}`).join('\n'))}</system-out>`);
      lines.push('    </testcase>');
    }
    lines.push('  </testsuite>');
    suites.push(...lines);
  }
  out.push(
    `<testsuites name="tenantctl verify" tests="${total}" failures="${failing}" errors="${errors}" time="${result.stats.seconds.toFixed(3)}">`,
    ...suites,
    '</testsuites>',
  );
  return `${out.join('\n')}\n`;
}
