/**
 * Reloading the fleet configuration in a running process (`run`, `planner`, `worker`): on SIGHUP
 * (and, for the planner, when the file changes) the file is read and validated exactly as at
 * start. A valid file is applied to what starts from then on; an invalid one is logged with the
 * file and the field and the running configuration stays. Reloads run one at a time, in order,
 * so two quick signals never apply an older file after a newer one.
 *
 * The reloader is registered before the process starts its parts, so a SIGHUP during start-up
 * (a deploy tool reloading right after a restart) is held, not fatal: SIGHUP's default action
 * would end the process. Held reloads run once `started()` is called.
 */
import { isSnapfleetError } from '@snapfleet/shared';
import { isSecret, type FleetConfig } from '@snapfleet/shared/config';
import type { FleetLogger } from '@snapfleet/shared/jobs';
import type { CliContext } from '../context.js';
import { loadFleetConfig } from '../fleet/fleet-config-file.js';
import type { AuditRecorder } from '../audit-recorder.js';

export interface ConfigReloader {
  /** Reads, validates and applies the file now; `trigger` names the cause in the logs. */
  reload(trigger: string): Promise<void>;
  /** The parts `apply` works on are running: reloads held until now go ahead. */
  started(): void;
  /** Runs `start` (which starts those parts), then `started()`; if it fails, releases the signal. */
  startWith<T>(start: () => Promise<T>): Promise<T>;
  release(): void;
}

/**
 * `apply` gets the new config and returns the changed settings that need a restart; the running
 * config is replaced only when `apply` succeeds.
 */
export function reloadConfigOnSignal(
  ctx: CliContext,
  path: string,
  log: FleetLogger,
  apply: (next: FleetConfig) => Promise<string[]>,
  audit?: AuditRecorder,
): ConfigReloader {
  let started!: () => void;
  let chain: Promise<void> = new Promise<void>((resolve) => (started = resolve));
  const reload = (trigger: string): Promise<void> => {
    chain = chain.then(async () => {
      let next: FleetConfig;
      try {
        next = await loadFleetConfig(path, ctx.env);
      } catch (err) {
        const field = isSnapfleetError(err) && 'field' in err && typeof err.field === 'string' ? { field: err.field } : {};
        log.error({ config: path, trigger, ...field, err: (err as Error).message }, 'config reload rejected; keeping the running config');
        await audit?.record({
          action: 'config-reload',
          target: path,
          outcome: 'refused',
          details: { trigger, ...('field' in field && field.field ? { field: field.field } : {}) },
        });
        return;
      }
      try {
        const restartNeeded = await apply(next);
        log.info({ config: path, trigger, policies: next.policies.map((p) => p.name), ...(restartNeeded.length ? { restartNeeded } : {}) }, 'config reloaded');
        if (restartNeeded.length) log.warn({ config: path, restartNeeded }, 'changed settings that apply only after a restart');
        await audit?.record({
          action: 'config-reload',
          target: path,
          outcome: 'ok',
          details: { trigger, policies: next.policies.length, restartNeeded: restartNeeded.join(',') },
        });
      } catch (err) {
        log.error({ config: path, trigger, err: (err as Error).message }, 'config reload failed; changes may be partly applied, send SIGHUP again');
        await audit?.record({ action: 'config-reload', target: path, outcome: 'failed', details: { trigger } });
      }
    });
    return chain;
  };
  const handle = ctx.onReload(() => reload('SIGHUP'));
  const startWith = async <T>(start: () => Promise<T>): Promise<T> => {
    let value: T;
    try {
      value = await start();
    } catch (err) {
      handle.release();
      throw err;
    }
    started();
    return value;
  };
  return { reload, started, startWith, release: () => handle.release() };
}

/** Settings only a restart applies: the Redis connection and prefix (unless --prefix pins it) and the board. */
export function processSettingsNeedingRestart(prev: FleetConfig, next: FleetConfig, prefixPinned: boolean): string[] {
  const out: string[] = [];
  if (!prefixPinned && prev.fleet.prefix !== next.fleet.prefix) out.push('fleet.prefix');
  if (JSON.stringify(prev.fleet.redis ?? null) !== JSON.stringify(next.fleet.redis ?? null)) out.push('fleet.redis');
  // Every queue's events cap is fixed when its process starts (shared/jobs/job-options.ts).
  if (prev.fleet.jobs.keepEvents !== next.fleet.jobs.keepEvents) out.push('fleet.jobs.keepEvents');
  if (JSON.stringify(revealed(prev.board ?? null)) !== JSON.stringify(revealed(next.board ?? null))) out.push('board');
  return out;
}

/** A copy with secrets revealed, only to compare (a Secret serializes as "[redacted]", so a new token would look unchanged). */
function revealed(value: unknown): unknown {
  if (isSecret(value)) return value.reveal();
  if (Array.isArray(value)) return value.map(revealed);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revealed(v)]));
  return value;
}
