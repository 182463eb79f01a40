import { InputError } from '../index.js';

/** Collects repeated --set k=v flags. */
export function collectPairs(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InputError('usage', `--set wants key=value, got "${value}"`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

export function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter((v) => v.length > 0)];
}

export function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 1) throw new InputError('usage', `${flag} must be a whole number of at least 1, got "${value}"`);
    return n;
  };
}
