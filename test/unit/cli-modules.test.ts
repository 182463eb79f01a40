import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commandWord } from '../../src/cli/main.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The modules src/index.ts re-exports values from (src-relative, without .js). */
function publicModules(): Set<string> {
  const index = readFileSync(join(SRC, 'index.ts'), 'utf8');
  const mods = [...index.matchAll(/export\s+(\*|\{[^}]*\})\s+from\s+'\.\/([^']+)\.js'/g)].map((m) => m[2]!);
  return new Set(mods);
}

describe('the CLI uses only the public API', () => {
  it('every module the CLI loads from the core is one src/index.ts re-exports', () => {
    const allowed = publicModules();
    const outside: string[] = [];
    for (const file of filesUnder(join(SRC, 'cli'))) {
      const text = readFileSync(file, 'utf8');
      // Runtime imports only: `import type` is erased.
      for (const m of text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'(\.[^']+)\.js';/gms)) {
        const target = relative(SRC, resolve(dirname(file), m[1]!));
        if (target.startsWith('cli/') || target === 'index') continue;
        if (!allowed.has(target)) outside.push(`${relative(SRC, file)} -> ${target}`);
      }
    }
    expect(outside).toEqual([]);
  });
});

describe('the command word', () => {
  it('is the first argument that is not a global option or its value', () => {
    expect(commandWord(['node', 'tenantctl', 'query', '-c', 'SELECT 1'])).toBe('query');
    expect(commandWord(['node', 'tenantctl', '--json', '--database-url', 'postgres://x/y', 'tenant', 'list'])).toBe('tenant');
    expect(commandWord(['node', 'tenantctl', '--config', 'migrate', 'verify'])).toBe('verify');
    expect(commandWord(['node', 'tenantctl', '--config=c.json', 'init'])).toBe('init');
    expect(commandWord(['node', 'tenantctl', '--help'])).toBeUndefined();
  });
});
