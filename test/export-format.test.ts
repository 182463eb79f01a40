import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { copyText, rewriteField } from '../src/tenants/export-data.js';

/** Pushes `text` through the rewrite in chunks of `size` bytes (splitting lines and fields anywhere). */
async function through(text: string, index: number, value: string, size: number): Promise<string> {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  const out: Buffer[] = [];
  for await (const piece of Readable.from(chunks).pipe(rewriteField(index, value))) out.push(piece as Buffer);
  return Buffer.concat(out).toString();
}

describe('the ownership column rewrite of COPY text', () => {
  const input = ['1\told\tAda\\tL\\\\', '2\t\\N\tBob', '3\told\t✓ é', '4\tolder-key-value\t'].join('\n') + '\n';
  const expected = ['1\tNEW\tAda\\tL\\\\', '2\t\\N\tBob', '3\tNEW\t✓ é', '4\tNEW\t'].join('\n') + '\n';

  it('replaces the field wherever the chunks split, keeps NULL, leaves the other fields byte for byte', async () => {
    for (const size of [1, 2, 3, 7, 64, 4096]) expect(await through(input, 1, 'NEW', size)).toBe(expected);
  });

  it('rewrites the first and the last field', async () => {
    expect(await through('a\tb\tc\nd\te\tf\n', 0, 'X', 2)).toBe('X\tb\tc\nX\te\tf\n');
    expect(await through('a\tb\tc\nd\te\t\\N\n', 2, 'X', 5)).toBe('a\tb\tX\nd\te\t\\N\n');
  });

  it('escapes a key for COPY text, and refuses a file cut in the middle of a row', async () => {
    expect(copyText('a\tb\\c\nd')).toBe('a\\tb\\\\c\\nd');
    await expect(through('1\tx\n2\ty', 1, 'K', 3)).rejects.toThrow(/cut short/);
    await expect(through('1\n', 1, 'K', 3)).rejects.toThrow(/fewer than 2 fields/);
  });
});
