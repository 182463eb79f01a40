import { describe, expect, it } from 'vitest';
import { collectPairs, listOf, positiveInt } from '../../src/cli/parse.js';
import { InputError } from '../../src/index.js';

function usage(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('CLI flag parsing', () => {
  it('--set k=v collects pairs; the value may hold "=" and be empty; a later key wins', () => {
    let pairs = collectPairs('plan=pro');
    pairs = collectPairs('url=https://x/?a=b', pairs);
    pairs = collectPairs('note=', pairs);
    pairs = collectPairs('plan=free', pairs);
    expect(pairs).toEqual({ plan: 'free', url: 'https://x/?a=b', note: '' });
  });

  it('--set refuses a pair with no key or no "=", as a usage error', () => {
    for (const bad of ['plan', '=pro', '']) {
      const err = usage(() => collectPairs(bad));
      expect(err).toMatchObject({ code: 'usage', exitCode: 2, message: `--set wants key=value, got "${bad}"` });
    }
  });

  it('lists take repeated flags and commas', () => {
    const collect = listOf('--tenant');
    expect(collect('a,b', collect('x'))).toEqual(['x', 'a', 'b']);
    expect(collect(' a , b ')).toEqual(['a', 'b']);
  });

  it('an empty or blank item is a usage error naming the flag: an unset variable must not mean everything', () => {
    const collect = listOf('--table');
    for (const bad of ['', ',', ' ', 'a,,b', 'a,']) {
      expect(usage(() => collect(bad))).toMatchObject({ code: 'usage', exitCode: 2 });
      expect(usage(() => collect(bad)).message).toMatch(/^--table got an empty item/);
    }
  });

  it('positiveInt takes whole numbers from 1 up', () => {
    const parse = positiveInt('--concurrency');
    expect(parse('1')).toBe(1);
    expect(parse('016')).toBe(16);
    expect(parse('1000000')).toBe(1_000_000);
  });

  it('positiveInt refuses anything else, naming the flag and the value', () => {
    const parse = positiveInt('--canary');
    for (const bad of ['0', '-1', '1.5', '1e3', ' 2', 'two', '', '0x10']) {
      expect(usage(() => parse(bad))).toMatchObject({
        code: 'usage',
        exitCode: 2,
        message: `--canary must be a whole number of at least 1, got "${bad}"`,
      });
    }
  });
});
