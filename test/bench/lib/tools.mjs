// The registry of tools a scenario can drive. Each adapter turns a step (init, archive, restore)
// into a command; scenarios never know tool-specific flags.
import { borgTool } from './tool-borg.mjs';
import { resticTool } from './tool-restic.mjs';
import { snapfleetTool } from './tool-snapfleet.mjs';

const FACTORIES = {
  snapfleet: (cfg) => snapfleetTool(cfg),
  // Packs and restored files written with O_DIRECT (not the default: docs/architecture.md):
  // opt-in (SNAPFLEET_BENCH_TOOLS=...,snapfleet-direct), to see what it does on the machine at hand
  'snapfleet-direct': (cfg) =>
    snapfleetTool(cfg, {
      name: 'snapfleet-direct',
      settings: 'encrypted (SNAPFLEET_PASSWORD), CLI defaults, SNAPFLEET_DIRECT_IO=1',
      env: { SNAPFLEET_DIRECT_IO: '1' },
    }),
  restic: () => resticTool(),
  borg: () => borgTool(),
  // borg's fixed-size chunker at 64 KiB: opt-in (SNAPFLEET_BENCH_TOOLS=...,borg-fixed64k)
  'borg-fixed64k': () => borgTool({ name: 'borg-fixed64k', chunkerParams: 'fixed,65536' }),
};

/** @returns {{tools: object[], skipped: {name: string, reason: string}[]}} */
export function selectTools(cfg) {
  const tools = [];
  const skipped = [];
  for (const name of cfg.tools) {
    const make = FACTORIES[name];
    if (!make) throw new Error(`unknown tool ${name} (known: ${Object.keys(FACTORIES).join(', ')})`);
    const tool = make(cfg);
    const status = tool.check();
    if (status.ok) tools.push(tool);
    else skipped.push({ name, reason: status.reason });
  }
  return { tools, skipped };
}
