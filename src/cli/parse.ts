import { InputError } from '../errors.js';

/** Collects repeated --set k=v flags. */
export function collectPairs(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0 || value.slice(0, at).trim().length === 0) throw new InputError('usage', `--set wants key=value, got "${value}"`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/**
 * Collects a repeatable, comma-separated list flag. An empty or blank item is
 * refused: an unset shell variable must not widen a command to everything.
 */
export function listOf(flag: string) {
  return (value: string, previous: string[] = []): string[] => {
    const items = value.split(',').map((v) => v.trim());
    if (items.some((v) => v.length === 0)) {
      throw new InputError('usage', `${flag} got an empty item (${JSON.stringify(value)}); name at least one, or leave the flag out`);
    }
    return [...previous, ...items];
  };
}

export function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 1)
      throw new InputError('usage', `${flag} must be a whole number of at least 1, got "${value}"`);
    return n;
  };
}
