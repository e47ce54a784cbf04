/**
 * A policy's steady state, simulated rather than guessed: the runs its schedules make over the
 * last `historyMonths` (one provider snapshot each), the runs its archive selection archives, and
 * what each tier's retention rules (the real applyPolicy) keep of them at the end. Count rules,
 * keepWithin*, calendar buckets and time zones then weigh in exactly as they will in the fleet.
 * The estimate prices what is kept: the oldest kept snapshot holds a volume's written blocks,
 * each newer one the blocks changed since the one before it.
 *
 * Pure: `now` is an input; cron expressions are enumerated from it with cron-parser.
 */
import { cronRuns } from '../config/cron-runs.js';
import { applyPolicy } from '../retention/apply-policy.js';
import { bucketKey } from '../retention/calendar-buckets.js';
import { tierRules, type ArchiveSelection, type RetentionPolicy } from '../retention/policy-schema.js';
import type { RetentionRules } from '../retention/rules-schema.js';
import { UTC, wallClock } from '../retention/zoned-time.js';

export type CostSchedule = { cron: string; timeZone: string } | { every: number };

/** A billing month: 730 hours, as AWS's pricing calculator counts (8,760 hours a year / 12). */
export const MONTH_MS = 730 * 3_600_000;
export const DAY_MS = 86_400_000;
/**
 * Runs simulated at most. A schedule that fires more often (every minute for a year) is
 * simulated over its newest runs only: the history gets shorter, and the result says so.
 */
export const MAX_SIMULATED_RUNS = 20_000;

export interface TierHistory {
  /** Snapshots the tier's rules keep at the end of the history. */
  kept: number;
  /** Days between consecutive kept snapshots, oldest first (one fewer than `kept`). */
  gapsDays: number[];
}

export interface PolicyHistory {
  /** Months (of 730 hours) simulated: `historyMonths`, or less when the runs were capped. */
  months: number;
  snapshotsPerMonth: number;
  archivesPerMonth: number;
  /** Mean days between two archives of a volume: the change an incremental archive reads. */
  archiveGapDays: number;
  snapshotTier: TierHistory;
  archiveTier: TierHistory;
  /** True when the schedules fire too often for the whole history to be simulated. */
  shortened: boolean;
}

export interface HistoryInput {
  schedules: readonly CostSchedule[];
  /** The policy's retention; absent, both tiers keep everything (as the fleet does). */
  retention?: RetentionPolicy | undefined;
  now: Date;
  historyMonths: number;
}

export function simulateHistory(input: HistoryInput): PolicyHistory {
  const now = input.now.getTime();
  const { runs, start, shortened } = scheduleRuns(input.schedules, now, input.historyMonths * MONTH_MS);
  const months = (now - start) / MONTH_MS;
  const retention = input.retention;
  const archived = selectArchived(runs, retention?.archiveSelection ?? { mode: 'every-snapshot' }, retention?.timeZone ?? UTC);
  return {
    months,
    snapshotsPerMonth: runs.length / months,
    archivesPerMonth: archived.length / months,
    archiveGapDays: archived.length > 0 ? (now - start) / DAY_MS / archived.length : 0,
    snapshotTier: keptHistory(runs, retention && tierRules(retention, 'snapshot'), input.now),
    archiveTier: keptHistory(archived, retention && tierRules(retention, 'archive'), input.now),
    shortened,
  };
}

/** The runs in (now - horizon, now], ascending and without duplicates (two schedules at one time make one run). */
function scheduleRuns(schedules: readonly CostSchedule[], now: number, horizonMs: number): { runs: number[]; start: number; shortened: boolean } {
  let start = now - horizonMs;
  let runs = enumerate(schedules, start, now);
  let shortened = false;
  if (runs.capped !== undefined) {
    // The window that held MAX_SIMULATED_RUNS runs of the busiest schedule, moved to end at now.
    start = now - (runs.capped - start);
    runs = enumerate(schedules, start, now);
    shortened = true;
  }
  return { runs: [...new Set(runs.times)].sort((a, b) => a - b), start, shortened };
}

/** Every schedule's runs in (start, now]; `capped` is the time a schedule reached the cap, if one did. */
function enumerate(schedules: readonly CostSchedule[], start: number, now: number): { times: number[]; capped: number | undefined } {
  const times: number[] = [];
  let capped: number | undefined;
  for (const s of schedules) {
    const own = 'every' in s ? everyRuns(s.every, start, now) : cronRuns(s.cron, s.timeZone, new Date(start), now, MAX_SIMULATED_RUNS);
    if (own.length >= MAX_SIMULATED_RUNS) capped = Math.min(capped ?? Infinity, own.at(-1)!);
    times.push(...own);
  }
  return { times, capped };
}

/** `every` schedules repeat at whole multiples of their interval. */
function everyRuns(every: number, start: number, now: number): number[] {
  const out: number[] = [];
  for (let t = (Math.floor(start / every) + 1) * every; t <= now && out.length < MAX_SIMULATED_RUNS; t += every) out.push(t);
  return out;
}

/** The runs archive selection archives, as archive-selection.ts decides for a history it has seen whole. */
function selectArchived(runs: readonly number[], selection: ArchiveSelection, timeZone: string): number[] {
  switch (selection.mode) {
    case 'every-snapshot':
      return [...runs];
    case 'every-nth':
      return runs.filter((_, i) => i % selection.n === 0);
    case 'first-of-month': {
      const seen = new Set<string>();
      return runs.filter((t) => {
        const month = bucketKey('monthly', wallClock(t, timeZone));
        if (seen.has(month)) return false;
        seen.add(month);
        return true;
      });
    }
  }
}

/** What `rules` keep of `times` at `now` (everything without rules), and the gaps between the kept. */
function keptHistory(times: readonly number[], rules: RetentionRules | undefined, now: Date): TierHistory {
  const snapshots = times.map((t, i) => ({ id: `run-${String(i).padStart(6, '0')}`, time: new Date(t), at: t }));
  const kept = rules ? applyPolicy(snapshots, rules, now).keep.map((k) => k.snapshot.at) : [...times];
  kept.sort((a, b) => a - b);
  const gapsDays: number[] = [];
  for (let i = 1; i < kept.length; i++) gapsDays.push((kept[i]! - kept[i - 1]!) / DAY_MS);
  return { kept: kept.length, gapsDays };
}
