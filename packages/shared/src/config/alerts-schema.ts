/**
 * The `alerts` section: notification targets and how often the fleet looks for RPO breaches.
 * A target's URL is a secret (a Slack webhook URL is its own credential): it is wrapped at parse
 * time and never printed, or named by an environment variable the worker reads when it sends.
 */
import { z } from 'zod';
import { envNameSchema } from './env-name-schema.js';
import { interval } from './interval-schema.js';
import { Secret } from './secret.js';

/** What the fleet alerts about. */
export const ALERT_EVENTS = ['job-failed', 'rpo-breached', 'rpo-recovered', 'prune-leftovers', 'drill-failed', 'retention-held'] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

const targetSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: 'must start with a letter or digit and contain only letters, digits, "_", "." and "-"' }),
    /** webhook: a JSON object per alert; slack: Slack's incoming-webhook shape ({ text }), which Mattermost and others take too. */
    kind: z.enum(['webhook', 'slack'], { error: 'must be "webhook" or "slack"' }),
    /** The URL (http or https). */
    url: z
      .string()
      .refine((u) => /^https?:\/\/[^\s]+$/.test(u), { error: 'must be an http:// or https:// URL' })
      .transform((s) => new Secret(s))
      .optional(),
    /** The environment variable that holds the URL, read by the worker when it sends. */
    urlEnv: envNameSchema.optional(),
    /** Events sent to this target. @defaultValue every event */
    events: z
      .array(z.enum(ALERT_EVENTS, { error: `must be one of ${ALERT_EVENTS.join(', ')}` }))
      .min(1)
      .optional(),
  })
  .superRefine((t, ctx) => {
    if ((t.url === undefined) === (t.urlEnv === undefined)) ctx.addIssue({ code: 'custom', path: ['url'], message: 'give url or urlEnv (exactly one)' });
  });

export const alertsSchema = z
  .strictObject({
    targets: z.array(targetSchema).min(1, { error: 'alerts need at least one target' }),
    /** How often RPO compliance is checked for breaches and recoveries. @defaultValue "1m" */
    checkEvery: interval(1000).default(60_000),
    /**
     * The same alert about the same volume (or repository) is sent at most once per this: a
     * flapping volume does not flood a channel. A recovery is sent only for a breach that was.
     * @defaultValue "1h"
     */
    quietPeriod: interval(0).default(3_600_000),
  })
  .refine((a) => new Set(a.targets.map((t) => t.name)).size === a.targets.length, { error: 'target names must be unique', path: ['targets'] });

export type AlertsConfig = z.output<typeof alertsSchema>;
export type AlertTargetConfig = AlertsConfig['targets'][number];

/** Whether the target takes the event. */
export function targetWants(target: AlertTargetConfig, event: AlertEvent): boolean {
  return target.events === undefined || target.events.includes(event);
}
