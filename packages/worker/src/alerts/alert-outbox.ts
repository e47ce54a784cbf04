/**
 * Alerts into the alert queue, one delivery job per target that wants the event; the alert
 * processor sends them with retries and backoff. With a quiet subject (a volume, a repository),
 * the same event about the same subject is enqueued at most once per the config's quiet period:
 * the first caller to claim the subject's quiet key wins, however many workers notice at once.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { targetWants, type FleetConfig } from '@snapfleet/shared/config';
import { alertQuietKey, type Alert, type AlertDeliveryJob } from '@snapfleet/shared/jobs';

/** A delivery is tried this often before it fails for good (backoff doubles from 5 s: about 40 min in all). */
export const ALERT_ATTEMPTS = 10;
const ALERT_BACKOFF_MS = 5_000;

export interface AlertOutbox {
  /** Enqueues `alert` for every target that wants it; the number of deliveries enqueued. */
  send(alert: Alert, quietSubject?: string): Promise<number>;
}

export function createAlertOutbox(args: { queue: Queue; redis: Redis; prefix: string; config: () => FleetConfig }): AlertOutbox {
  return {
    async send(alert, quietSubject) {
      const alerts = args.config().alerts;
      const targets = alerts?.targets.filter((t) => targetWants(t, alert.event)) ?? [];
      if (!alerts || targets.length === 0) return 0;
      if (quietSubject !== undefined && alerts.quietPeriod > 0) {
        const claimed = await args.redis.set(alertQuietKey(args.prefix, alert.event, quietSubject), alert.at, 'PX', alerts.quietPeriod, 'NX');
        if (claimed === null) return 0;
      }
      await args.queue.addBulk(
        targets.map((t) => ({
          name: 'deliver',
          data: { v: 1, target: t.name, alert } satisfies AlertDeliveryJob,
          opts: {
            attempts: ALERT_ATTEMPTS,
            backoff: { type: 'exponential', delay: ALERT_BACKOFF_MS },
            removeOnComplete: { age: 7 * 86_400 },
            removeOnFail: { age: 30 * 86_400 },
          },
        })),
      );
      return targets.length;
    },
  };
}
