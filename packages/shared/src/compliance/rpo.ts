/**
 * A policy's recovery point objective (RPO): how old a volume's newest restorable point may get
 * before the volume counts as breached. Given in the config (`rpo: "26h"`), or derived from the
 * policy's schedules: the longest gap between two consecutive scheduled runs, plus a grace for
 * the run itself to finish (half that gap, at most an hour). A daily policy gets 25h, an hourly
 * one 1h30m, `every: 5m` gets 7m30s. The gap is measured over the schedules' next year, so cron
 * expressions that skip weekends or months get the long gap they really have.
 */
import { cronRuns } from '../config/cron-runs.js';

export type RpoSchedule = { cron: string; timeZone: string } | { every: number };

/** The grace added to the longest gap: this share of it... */
export const RPO_GRACE_SHARE = 0.5;
/** ...and never more than this. */
export const RPO_GRACE_MAX_MS = 3_600_000;
/** How far ahead scheduled runs are enumerated: a year and a bit covers every calendar cycle. */
const HORIZON_MS = 400 * 86_400_000;
/**
 * Runs enumerated per schedule at most. A schedule firing more often is regular enough that its
 * first runs show its longest gap; the horizon shrinks to where the first schedule stopped.
 */
const MAX_RUNS = 20_000;

/** The longest time between two consecutive runs of the schedules together, in milliseconds. */
export function longestScheduleGapMs(schedules: readonly RpoSchedule[], from: Date): number {
  if (schedules.length === 0) throw new RangeError('a policy needs at least one schedule');
  const start = from.getTime();
  let horizon = start + HORIZON_MS;
  const runs: number[] = [];
  for (const s of schedules) {
    const times = 'every' in s ? everyRuns(s.every, start, horizon) : cronRuns(s.cron, s.timeZone, from, horizon, MAX_RUNS);
    if (times.length === MAX_RUNS) horizon = Math.min(horizon, times.at(-1)!);
    runs.push(...times);
  }
  const sorted = runs.filter((t) => t <= horizon).sort((a, b) => a - b);
  if (sorted.length < 2) return horizon - start; // fewer than two runs a year: the horizon is the gap
  let longest = 0;
  for (let i = 1; i < sorted.length; i++) longest = Math.max(longest, sorted[i]! - sorted[i - 1]!);
  return longest;
}

/** The RPO derived from a schedule gap: the gap plus the grace for a run to finish. */
export function derivedRpoMs(gapMs: number): number {
  return gapMs + Math.min(RPO_GRACE_MAX_MS, Math.round(gapMs * RPO_GRACE_SHARE));
}

/** A policy's RPO: the configured one, or the one its schedules imply. */
export function policyRpoMs(policy: { rpo?: number | undefined; schedules: readonly RpoSchedule[] }, from: Date): number {
  return policy.rpo ?? derivedRpoMs(longestScheduleGapMs(policy.schedules, from));
}

function everyRuns(every: number, start: number, horizon: number): number[] {
  const out: number[] = [];
  for (let t = start; t <= horizon && out.length < MAX_RUNS; t += every) out.push(t);
  return out;
}
