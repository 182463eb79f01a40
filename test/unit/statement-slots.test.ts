import { describe, expect, it } from 'vitest';
import { StatementSlots } from '../../src/verify/slots.js';

/** A statement that ends when the test says so, and says when it started. */
function gate(log: string[], name: string) {
  let end!: () => void;
  const done = new Promise<void>((resolve) => (end = resolve));
  return {
    run: () => {
      log.push(name);
      return done;
    },
    end,
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('statement slots', () => {
  it('run at most their number at once, and give a freed slot to the holders in turn', async () => {
    const slots = new StatementSlots(2);
    const log: string[] = [];
    const probes = Array.from({ length: 6 }, (_, i) => gate(log, `probe ${i}`));
    const digest = gate(log, 'digest');
    const running = [
      ...probes.map((p) => slots.run('ownership', p.run)),
      slots.run('drift', digest.run), // queued after four waiting probes, it gets the second slot freed, not the fifth
    ];
    await tick();
    expect(log).toEqual(['probe 0', 'probe 1']);
    probes[0]!.end();
    await tick();
    expect(log).toEqual(['probe 0', 'probe 1', 'probe 2']);
    probes[1]!.end();
    await tick();
    expect(log).toEqual(['probe 0', 'probe 1', 'probe 2', 'digest']);
    probes[2]!.end();
    await tick();
    expect(log.at(-1)).toBe('probe 3');
    digest.end();
    for (const p of probes) p.end();
    await Promise.all(running);
    expect(log).toHaveLength(7);
  });

  it('grow when a lane ends, and keep at least one slot', async () => {
    const slots = new StatementSlots(0);
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const both = [slots.run('x', a.run), slots.run('x', b.run)];
    await tick();
    expect(log).toEqual(['a']);
    slots.free(1);
    await tick();
    expect(log).toEqual(['a', 'b']);
    a.end();
    b.end();
    await Promise.all(both);
  });

  it('free the slot when a statement fails', async () => {
    const slots = new StatementSlots(1);
    await expect(slots.run('x', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(slots.run('x', () => Promise.resolve(7))).resolves.toBe(7);
  });
});
