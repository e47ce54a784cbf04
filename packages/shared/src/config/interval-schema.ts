/** A config interval ("30s", "1h30m") as milliseconds, at least `minMs`, with errors that say which form is wanted. */
import { z } from 'zod';
import { formatIntervalMs, parseIntervalMs } from './intervals.js';

export const interval = (minMs: number) =>
  z.string({ error: 'must be an interval such as "30s", "5m", "1h" or "1d"' }).transform((text, ctx) => {
    const ms = parseIntervalMs(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be an interval such as "30s", "5m", "1h" or "1d"; got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    if (ms < minMs) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${formatIntervalMs(minMs)}; got ${text}` });
      return z.NEVER;
    }
    return ms;
  });
