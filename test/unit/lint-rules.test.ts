import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LINT_RULES, LINT_RULE_IDS } from '../../src/index.js';

describe('lint: the rule list', () => {
  const doc = readFileSync(new URL('../../docs/lint.md', import.meta.url), 'utf8');
  const headings = [...doc.matchAll(/^### (.+)$/gm)].map((m) => m[1]!);

  it('docs/lint.md documents every rule with its level, and no rule that does not exist', () => {
    const documented = new Map<string, string>();
    for (const h of headings) for (const m of h.matchAll(/`([a-z-]+)` \((error|warn)/g)) documented.set(m[1]!, m[2]!);
    expect([...documented.keys()].sort()).toEqual([...LINT_RULE_IDS].sort());
    for (const id of LINT_RULE_IDS) expect(documented.get(id), id).toBe(LINT_RULES[id].level);
  });

  it('every rule says what it catches and how to fix it', () => {
    for (const id of LINT_RULE_IDS) {
      expect(LINT_RULES[id].summary.length, id).toBeGreaterThan(20);
      expect(LINT_RULES[id].fix.length, id).toBeGreaterThan(10);
    }
  });
});
