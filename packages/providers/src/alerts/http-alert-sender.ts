/**
 * Sends one alert to one target over HTTP: a generic webhook gets the alert as a JSON object, a
 * Slack-compatible one Slack's incoming-webhook shape ({ text }). The URL is a secret (a Slack
 * webhook URL is its own credential), so no error names it: they name the target.
 * 429 and 5xx answers and network failures are retryable (the alert queue retries with
 * backoff); other 4xx answers will not pass by retrying.
 */
import { PermanentError, TransientError } from '@snapfleet/shared';
import type { Alert } from '@snapfleet/shared/jobs';

/** A target that does not answer within this is retried later. */
const TIMEOUT_MS = 10_000;

export interface AlertTarget {
  name: string;
  kind: 'webhook' | 'slack';
  url: string;
}

/** What a webhook receives: the alert, with the fleet it came from. */
export function webhookBody(alert: Alert, fleet: string): object {
  return { source: 'snapfleet', fleet, ...alert };
}

const TITLES: Record<Alert['event'], string> = {
  'job-failed': 'job failed',
  'rpo-breached': 'RPO breached',
  'rpo-recovered': 'RPO recovered',
  'prune-leftovers': 'prune left objects behind',
  'drill-failed': 'restore drill failed',
  'retention-held': 'retention change held until confirmed',
};

/** What a Slack-compatible webhook receives: one line of text, then the details. */
export function slackBody(alert: Alert, fleet: string): { text: string } {
  const subject = [alert.policy, alert.volumeId].filter(Boolean).join('/') || alert.repository || '';
  const lines = [`[${fleet}] ${TITLES[alert.event]}${subject ? `: ${subject}` : ''}`, alert.summary];
  for (const [k, v] of Object.entries(alert.details ?? {})) lines.push(`${k}: ${String(v)}`);
  return { text: lines.join('\n') };
}

export async function sendAlert(target: AlertTarget, alert: Alert, fleet: string, fetchImpl: typeof fetch = fetch): Promise<void> {
  const body = target.kind === 'slack' ? slackBody(alert, fleet) : webhookBody(alert, fleet);
  let res: Response;
  try {
    res = await fetchImpl(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'snapfleet' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    // fetch's own message and cause name the URL's host at most; say only what went wrong.
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new TransientError(`alert target ${target.name}: request failed (${cause})`);
  }
  await res.body?.cancel().catch(() => {});
  if (res.ok) return;
  const why = `alert target ${target.name}: HTTP ${res.status}`;
  if (res.status === 429 || res.status >= 500) throw new TransientError(why);
  throw new PermanentError(why);
}
