/**
 * `snapfleet retention held|confirm --config FILE`: the retention changes the fleet holds
 * (docs/operations.md, "Retention changes"). A policy's new rules, or the orphans rule on its
 * first orphans, that would delete more of a volume's snapshots than `retentionGuard.maxShare`
 * beyond the accepted rules wait until an operator confirms them; `held` lists what waits (per
 * volume and tier, how many snapshots and which share), `confirm` accepts the rules in the
 * config for the policies named (or the orphans rule) and records who did it in the audit log.
 */
import type { Command } from 'commander';
import { InvalidInputError } from '@snapfleet/shared';
import { orphanGuardedRules } from '@snapfleet/shared/compliance';
import { retentionSubject } from '@snapfleet/shared/jobs';
import { canonicalRules, parseGuardedRules, policyGuardedRules } from '@snapfleet/shared/retention';
import { createRetentionGuardStore, type HeldChange } from '@snapfleet/providers/fleet';
import type { CliContext } from '../context.js';
import { createAuditRecorder } from '../audit-recorder.js';
import { loadFleetConfig } from '../fleet/fleet-config-file.js';
import { fleetPrefix, withFleetOptions, type FleetOptions } from '../fleet/fleet-options.js';
import { redisConnection } from '../fleet/fleet-redis.js';

interface ConfirmOptions extends FleetOptions {
  policy: string[];
  orphans?: boolean;
  all?: boolean;
  json?: boolean;
}

export function registerRetention(program: Command, ctx: CliContext): void {
  const retention = program.command('retention').description('retention changes held until confirmed');
  withFleetOptions(retention.command('held').description('list the retention changes held, the largest share of a volume first'))
    .option('--json', 'machine-readable output')
    .action(async (opts: FleetOptions & { json?: boolean }) => {
      const config = await loadFleetConfig(opts.config, ctx.env);
      const connector = redisConnection(ctx, config);
      const redis = connector.client();
      try {
        const held = await createRetentionGuardStore(redis, fleetPrefix(opts, config, connector)).listHeld();
        if (opts.json) ctx.stdout.write(JSON.stringify({ maxShare: config.retentionGuard.maxShare, held }) + '\n');
        else ctx.stdout.write(held.length ? held.map(heldLine).join('\n') + '\n' : 'no retention change is held\n');
      } finally {
        redis.disconnect();
      }
    });
  withFleetOptions(
    retention
      .command('confirm')
      .description("accept the config's retention rules for these policies (or the orphans rule): held deletions go ahead at the volumes' next retention jobs"),
  )
    .option('--policy <name>', 'a policy whose rules to accept (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--orphans', 'accept the orphans rule')
    .option('--all', 'accept every policy whose rules differ from the accepted ones, and the orphans rule')
    .option('--json', 'machine-readable output')
    .action(async (opts: ConfirmOptions) => {
      const config = await loadFleetConfig(opts.config, ctx.env);
      if (!opts.all && !opts.orphans && opts.policy.length === 0)
        throw new InvalidInputError('name what to confirm: --policy NAME, --orphans or --all', '--policy');
      for (const name of opts.policy) {
        if (!config.policies.some((p) => p.name === name))
          throw new InvalidInputError(`no policy ${name} in ${opts.config} (policies: ${config.policies.map((p) => p.name).join(', ') || 'none'})`, '--policy');
      }
      if (opts.orphans && !config.orphans) throw new InvalidInputError(`${opts.config} has no orphans section to confirm`, 'orphans');
      const wanted = new Map<string, string>();
      for (const p of config.policies)
        if (opts.all || opts.policy.includes(p.name)) wanted.set(retentionSubject(p.name), canonicalRules(policyGuardedRules(p.retention)));
      if ((opts.all || opts.orphans) && config.orphans) wanted.set(retentionSubject(), canonicalRules(orphanGuardedRules(config.orphans)));
      const connector = redisConnection(ctx, config);
      const prefix = fleetPrefix(opts, config, connector);
      const redis = connector.client();
      const audit = createAuditRecorder(ctx, connector, prefix, 'retention confirm');
      const confirmed: { subject: string; changed: boolean; released: number }[] = [];
      try {
        const store = createRetentionGuardStore(redis, prefix);
        for (const [subject, rules] of wanted) {
          const before = await store.accepted(subject);
          // --all names only what changed; a policy named explicitly is confirmed either way.
          if (opts.all && before === rules) continue;
          const released = await store.accept(subject, rules);
          const changed = before === null || parseGuardedRules(before) === undefined || before !== rules;
          confirmed.push({ subject, changed, released });
          await audit.record({ action: 'retention-confirm', target: subject, outcome: 'ok', details: { changed, released } });
        }
      } finally {
        audit.close();
        redis.disconnect();
      }
      if (opts.json) ctx.stdout.write(JSON.stringify({ confirmed }) + '\n');
      else if (confirmed.length === 0) ctx.stdout.write('every retention rule in the config is already accepted\n');
      else
        ctx.stdout.write(
          confirmed
            .map(
              (c) =>
                `accepted the rules of ${c.subject}${c.changed ? '' : ' (unchanged)'}: ${c.released} held change(s) go ahead at the next retention job of each volume`,
            )
            .join('\n') + '\n',
        );
    });
}

function heldLine(h: HeldChange): string {
  return `${h.subject} ${h.policy}/${h.volumeId} ${h.tier} tier: would delete ${h.extra} more of ${h.total} snapshots (${(h.share * 100).toFixed(0)}%), held since ${h.at}`;
}
