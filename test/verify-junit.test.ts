import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, type Tenantctl, type Violation } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text)) throw new Error(`bad entity in ${JSON.stringify(text.slice(0, 80))}`);
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (_, e: string) =>
    e.startsWith('#x')
      ? String.fromCodePoint(parseInt(e.slice(2), 16))
      : e.startsWith('#')
        ? String.fromCodePoint(Number(e.slice(1)))
        : ENTITIES[e]!,
  );
}

/** A small XML parser that throws on anything not well-formed: enough to read JUnit. */
function parseXml(xml: string): XmlElement {
  const token = /<\?xml[^?]*\?>|<!--[\s\S]*?-->|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*"[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let at = 0;
  while (at < xml.length) {
    token.lastIndex = at;
    const m = token.exec(xml);
    if (!m) throw new Error(`not well-formed at offset ${at}: ${JSON.stringify(xml.slice(at, at + 40))}`);
    at = token.lastIndex;
    const [whole, close, name, attrText, selfClose, text] = m;
    if (text !== undefined) {
      if (stack.length === 0) {
        if (text.trim()) throw new Error('text outside the root element');
      } else stack.at(-1)!.text += decode(text);
      continue;
    }
    if (!name) continue; // prolog or comment
    if (close) {
      const open = stack.pop();
      if (open?.name !== name) throw new Error(`</${name}> closes <${open?.name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText!.matchAll(/([A-Za-z_][\w.:-]*)\s*=\s*"([^"<]*)"/g)) {
      if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      attrs[a[1]!] = decode(a[2]!);
    }
    const el: XmlElement = { name: name, attrs, children: [], text: '' };
    if (stack.length > 0) stack.at(-1)!.children.push(el);
    else if (root) throw new Error(`second root element in ${whole}`);
    else root = el;
    if (!selfClose) stack.push(el);
  }
  if (stack.length > 0 || !root) throw new Error(`unclosed <${stack.at(-1)?.name}>`);
  return root;
}

let db: TestDatabase;
let tc: Tenantctl;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  dir = mkdtempSync(join(tmpdir(), 'tenantctl-junit-'));
  await createTenants(tc, { ids: ['acme', 'globex', 'clean'] });
  await db.pool.query(`
    CREATE TABLE tenant_acme."odd <&> ""name'" (id int, tenant_id text);
    INSERT INTO tenant_acme."odd <&> ""name'" VALUES (1, 'globex & co <x>');
    INSERT INTO tenant_globex.customers (tenant_id, name) VALUES ('acme', 'stray');
    CREATE VIEW tenant_globex.peek AS SELECT * FROM tenant_acme.customers;
    GRANT USAGE ON SCHEMA tenant_acme TO PUBLIC;
    CREATE TABLE public.events (id int, tenant_id text);
    CREATE SCHEMA tenant_ghost;
  `);
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('verify --junit', () => {
  it('writes well-formed JUnit XML: a suite per check, a case per check and tenant, a failure per violation', async () => {
    const file = join(dir, 'verify.xml');
    const res = await cliOn(db.url)(['verify', '--junit', file, '--fail-on', 'warn', '--json']);
    expect(res.code).toBe(1);
    const doc = res.json<{ violations: Violation[]; tenants: { id: string }[] }>();
    expect(doc.violations.length).toBeGreaterThanOrEqual(6);
    const root = parseXml(readFileSync(file, 'utf8'));
    expect(root.name).toBe('testsuites');
    expect(root.children.map((s) => s.attrs.name)).toEqual(['ownership', 'references', 'privileges', 'rls', 'drift', 'registry']);
    const failures = root.children.flatMap((s) =>
      s.children.flatMap((c) => c.children.filter((f) => f.name === 'failure').map((f) => ({ suite: s, c, f }))),
    );
    expect(failures).toHaveLength(doc.violations.length);
    expect(Number(root.attrs.failures)).toBe(doc.violations.length);
    for (const suite of root.children) {
      const names = suite.children.map((c) => c.attrs.name);
      // every tenant has its case in every suite; findings about no tenant (or an unregistered one) get their own
      expect(names).toEqual(expect.arrayContaining(['acme', 'clean', 'globex']));
      expect(Number(suite.attrs.tests)).toBe(suite.children.length);
      expect(Number(suite.attrs.failures)).toBe(doc.violations.filter((v) => v.check === suite.attrs.name).length);
    }
    // each violation is one failure, in its check's suite and its tenant's case, carrying the detail
    for (const v of doc.violations) {
      const hit = failures.filter(
        ({ suite, c, f }) =>
          suite.attrs.name === v.check && c.attrs.name === (v.tenant ?? '(fleet)') && f.attrs.message === `${v.object}: ${v.detail}`,
      );
      expect(hit, `${v.check} ${v.tenant} ${v.object}`).toHaveLength(1);
      expect(hit[0]!.f.text).toContain(`detail: ${v.detail}`);
    }
    const odd = doc.violations.find((v) => v.object === `odd <&> "name'`);
    expect(odd?.detail).toContain(`'globex & co <x>' (1)`);
    const clean = root.children[0]!.children.find((c) => c.attrs.name === 'clean')!;
    expect(clean.children).toEqual([]);
  });

  it('lists violations below --fail-on in <system-out>, not as failures', async () => {
    const file = join(dir, 'lenient.xml');
    const res = await cliOn(db.url)(['verify', '--check', 'registry', '--junit', file, '--json']);
    expect(res.code).toBe(0);
    const root = parseXml(readFileSync(file, 'utf8'));
    expect(root.attrs.failures).toBe('0');
    const ghost = root.children[0]!.children.find((c) => c.attrs.name === 'ghost')!;
    expect(ghost.children.map((c) => c.name)).toEqual(['system-out']);
    expect(ghost.children[0]!.text).toContain('warn: schema tenant_ghost: is named like a tenant schema but has no registry row');
  });
});
