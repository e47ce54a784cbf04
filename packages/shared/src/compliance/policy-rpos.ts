/**
 * Every policy's RPO, derived once per config object: enumerating a year of cron runs takes a
 * fraction of a second, too much for every metrics scrape or alert check.
 */
import type { FleetConfig } from '../config/fleet-config-schema.js';
import { policyRpoMs } from './rpo.js';

const cache = new WeakMap<FleetConfig, Map<string, number>>();

export function policyRpos(config: FleetConfig, now: Date): Map<string, number> {
  let rpos = cache.get(config);
  if (!rpos) {
    rpos = new Map(config.policies.map((p) => [p.name, policyRpoMs(p, now)]));
    cache.set(config, rpos);
  }
  return rpos;
}
