// What the snapfleet-only scenarios (fleet, night, night-scaling, prune, scale) return: their
// failures as the report lists them, the result of a scenario that threw (its section says why and
// the run counts as failed, so RESULTS.md keeps the last good numbers), and the whole scenario
// object for those whose measurement gives { data, failures }.
import console from 'node:console';

/** The report's failure entries for messages of scenario `id`. */
export function snapfleetFailures(id, messages) {
  return messages.map((message) => ({ scenario: id, tool: 'snapfleet', message }));
}

/** The result of scenario `{ id, title }` when its run threw `err`. */
export function failedScenario({ id, title }, err) {
  console.error(`FAILED ${id}: ${err.stack ?? err.message}`);
  return { id, title, data: {}, markdown: `Failed: ${err.message}`, failures: snapfleetFailures(id, [err.message]) };
}

/**
 * A scenario without the shared images whose `measure(ctx)` gives `{ data, failures }` (failure
 * messages) and whose section is `markdown(data, cfg)`.
 */
export function snapfleetScenario({ id, title, measure, markdown }) {
  return {
    id,
    title,
    usesImages: false,
    async run(ctx) {
      try {
        const { data, failures } = await measure(ctx);
        if (failures.length) console.error(`FAILED ${id}: ${failures.join('; ')}`);
        return { id, title, data, markdown: markdown(data, ctx.cfg), failures: snapfleetFailures(id, failures) };
      } catch (e) {
        return failedScenario({ id, title }, e);
      }
    },
  };
}
