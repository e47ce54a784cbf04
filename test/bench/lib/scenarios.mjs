// The registry of bench scenarios. A scenario is { id, title, run(ctx) } where ctx carries the
// config, the prepared images and the selected tools, and run() returns
// { id, title, data, markdown, failures }. `usesImages` says whether it needs the shared
// base/mutated image pair (run.mjs prepares it only then). New scenarios go here.
import { archiveScenario } from './scenario-archive.mjs';
import { fleetScenario } from './scenario-fleet.mjs';
import { historyScenario } from './scenario-history.mjs';
import { nightScenario } from './scenario-night.mjs';
import { nightScalingScenario } from './scenario-night-scaling.mjs';
import { pruneScenario } from './scenario-prune.mjs';
import { scaleScenario } from './scenario-scale.mjs';

// night and night-scaling are not in config.mjs's default set: ~35 and ~10 min of a fleet against the simulated account.
const SCENARIOS = [archiveScenario, pruneScenario, historyScenario, fleetScenario, scaleScenario, nightScenario, nightScalingScenario];

export function selectScenarios(ids) {
  return ids.map((id) => {
    const s = SCENARIOS.find((x) => x.id === id);
    if (!s) throw new Error(`unknown scenario ${id} (known: ${SCENARIOS.map((x) => x.id).join(', ')})`);
    return s;
  });
}
