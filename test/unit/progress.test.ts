import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { Progress } from '../../src/cli/progress.js';

/** A stderr that says it is a terminal, and everything written to it. */
function terminal(env: NodeJS.ProcessEnv): { io: Io; written: () => string } {
  const stderr = Object.assign(new PassThrough(), {
    isTTY: true,
    columns: 80,
    rows: 24,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  });
  let text = '';
  stderr.on('data', (d) => (text += String(d)));
  const io = { stdout: new PassThrough(), stderr, stdin: new PassThrough(), env, cwd: '/' } as unknown as Io;
  return { io, written: () => text };
}

// Colour codes: ESC [ <digits> m (cursor control such as ESC [ ?25l is not colour).
// eslint-disable-next-line no-control-regex -- colour codes are what this test looks for
const COLOUR = /\u001b\[[0-9;]+m/;

describe('progress on a terminal', () => {
  it('the spinner has no colour under NO_COLOR', async () => {
    const t = terminal({ NO_COLOR: '1' });
    const p = await Progress.for(t.io, {});
    p.start('migrating');
    p.tenant({ id: 'a', status: 'migrated', done: 1, failed: 0, total: 2 });
    p.stop();
    expect(t.written()).toContain('migrating');
    expect(t.written()).not.toMatch(COLOUR);
  });

  it('and has it when colour is forced', async () => {
    const t = terminal({ FORCE_COLOR: '1' });
    const p = await Progress.for(t.io, {});
    p.start('migrating');
    p.stop();
    expect(t.written()).toMatch(COLOUR);
  });
});
