/**
 * `snapfleet plan --config FILE [--policy P] [--cost] [--json]`: what each policy will hold and
 * how long one of its runs needs at the configured rate limits, and with --cost what it costs per
 * month (EBS snapshot storage, EBS direct API calls, S3 requests and storage) at the config's
 * `pricing` (default: AWS us-east-1 list prices). The volumes come from a fresh discovery, how they
 * change and store from the repositories' own snapshot stats where those open, the rest from the
 * price table's assumptions; the arithmetic is @snapfleet/shared/cost. Reads only: no Redis, no
 * job, nothing written.
 */
import type { Command } from 'commander';
import { InvalidInputError } from '@snapfleet/shared';
import { estimatePolicyCost } from '@snapfleet/shared/cost';
import { createFleetRepositories } from '@snapfleet/worker';
import { storeWarning, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { policyPlanInput, repositoryFactsReader } from '../plan-inputs.js';
import { planJson, planText, type PolicyPlan } from '../plan-report.js';
import { loadFleetConfig } from '../fleet/fleet-config-file.js';
import { fleetProvider } from '../fleet/fleet-provider.js';

interface PlanOptions {
  config: string;
  policy?: string;
  cost?: boolean;
  json?: boolean;
}

export function registerPlan(program: Command, ctx: CliContext, setExitCode: (code: number) => void): void {
  program
    .command('plan')
    .description("each policy's volumes, what its tiers will hold and how long a run takes at the rate limits; --cost adds a monthly cost estimate")
    .requiredOption('-c, --config <file>', 'the fleet configuration (YAML or JSON)')
    .option('--policy <name>', 'only this policy')
    .option('--cost', 'price it: monthly EBS snapshot storage, EBS direct API calls, S3 requests and storage')
    .option('--json', 'machine-readable output')
    .action(async (opts: PlanOptions) => {
      const config = await loadFleetConfig(opts.config, ctx.env);
      const policies = opts.policy === undefined ? config.policies : config.policies.filter((p) => p.name === opts.policy);
      if (opts.policy !== undefined && policies.length === 0) {
        throw new InvalidInputError(`--policy: unknown policy ${opts.policy} (defined: ${config.policies.map((p) => p.name).join(', ') || 'none'})`, 'policy');
      }
      const now = ctx.clock.now();
      const provider = fleetProvider(config);
      const repos = createFleetRepositories({
        repositories: config.repositories,
        env: ctx.env,
        clock: ctx.clock,
        codecThreads: 1,
        onWarning: storeWarning(ctx),
      });
      const factsOf = repositoryFactsReader(repos);
      const plans: PolicyPlan[] = [];
      const problems: { policy: string; error: string }[] = [];
      try {
        for (const policy of policies) {
          try {
            const { input, notes, repositoryStoredBytes } = await policyPlanInput(config, policy, provider, await factsOf(policy.repository), now);
            plans.push({
              estimate: estimatePolicyCost(input),
              repository: policy.repository,
              notes,
              ...(repositoryStoredBytes !== undefined ? { repositoryStoredBytes } : {}),
            });
          } catch (err) {
            // Without its volumes a policy cannot be estimated; the others still are.
            problems.push({ policy: policy.name, error: `discovery: ${(err as Error).message}` });
          }
        }
      } finally {
        await repos.close();
      }
      if (problems.length) setExitCode(EXIT.failure);
      const withCost = opts.cost === true;
      if (opts.json) {
        ctx.stdout.write(JSON.stringify({ now: now.toISOString(), cost: withCost, policies: planJson(plans, withCost), problems }) + '\n');
        return;
      }
      ctx.stdout.write(plans.length ? planText(plans, withCost) : 'no policies\n');
      for (const p of problems) ctx.stderr.write(`snapfleet: policy ${p.policy} not estimated: ${p.error}\n`);
    });
}
