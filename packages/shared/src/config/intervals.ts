/**
 * Intervals for `every` schedules and cadences: "30s", "5m", "1h30m", "1d", "250ms". Elapsed
 * time, not calendar steps (unlike retention durations): a scheduler ticks every N milliseconds.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+)(ms|s|m|h|d)/y;

/** Milliseconds of an interval, or undefined when `text` is not one. */
export function parseIntervalMs(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h|d))+$/.test(text)) return undefined;
  let total = 0;
  const seen = new Set<string>();
  PART.lastIndex = 0;
  for (let m = PART.exec(text); m; m = PART.exec(text)) {
    if (seen.has(m[2]!)) return undefined;
    seen.add(m[2]!);
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return total;
}

/** The interval in its shortest exact form, for messages: 5400000 -> "1h30m". */
export function formatIntervalMs(ms: number): string {
  let rest = ms;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms']) {
    const n = Math.floor(rest / UNIT_MS[unit]!);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * UNIT_MS[unit]!;
  }
  return out || '0ms';
}
