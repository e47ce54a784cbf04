/** The times a cron schedule fires after `from`, up to `until` (ms since the epoch), at most `max` of them. */
import { CronExpressionParser } from 'cron-parser';

export function cronRuns(cron: string, timeZone: string, from: Date, until: number, max: number): number[] {
  const it = CronExpressionParser.parse(cron, { currentDate: from, tz: timeZone });
  const out: number[] = [];
  while (out.length < max && it.hasNext()) {
    const t = it.next().getTime();
    if (t > until) break;
    out.push(t);
  }
  return out;
}
