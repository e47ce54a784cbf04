/** Parsing of sizes and percentages given on the command line, with errors naming the flag. */
import { InvalidInputError } from '@snapfleet/shared';

const UNITS: Record<string, number> = { '': 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3 };

export function parseSize(text: string, flag: string): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m && UNITS[m[2]!.toLowerCase()];
  if (!m || unit === undefined || unit === null) throw new InvalidInputError(`${flag}: "${text}" is not a size (e.g. 4096, 64KiB, 4MiB)`, flag);
  return Number(m[1]) * unit;
}

/** "10", "10%" or "2.5%" -> a fraction in (0, 1]. */
export function parsePercent(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  const pct = m ? Number(m[1]) : NaN;
  if (!(pct > 0 && pct <= 100)) throw new InvalidInputError(`${flag}: "${text}" is not a percentage in (0, 100]`, flag);
  return pct / 100;
}

export function parseIntFlag(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidInputError(`${flag}: "${text}" must be a whole number from ${min} to ${max}`, flag);
  return n;
}

export function parseTime(text: string, flag: string): Date {
  const d = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(d.getTime()))
    throw new InvalidInputError(`${flag}: "${text}" is not an ISO 8601 time (e.g. 2026-01-31T02:00:00Z)`, flag);
  return d;
}
