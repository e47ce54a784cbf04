// snapfleet benchmark: `pnpm bench` (= turbo run build && node test/bench/run.mjs).
// Compares snapfleet with restic and borg on the same synthetic disk image, in one run, and
// writes test/bench/RESULTS.md. Exit 0 even when a performance target is missed (the report
// says so); non-zero when a tool fails or a restore is not byte-identical.
// Configuration: SNAPFLEET_BENCH_* environment variables, documented in lib/config.mjs.
import { mkdir, rm } from 'node:fs/promises';
import console from 'node:console';
import process from 'node:process';
import { loadConfig } from './lib/config.mjs';
import { prepareImages } from './lib/image.mjs';
import { machineInfo } from './lib/machine.mjs';
import { writeResults } from './lib/results.mjs';
import { selectScenarios } from './lib/scenarios.mjs';
import { selectTools } from './lib/tools.mjs';
import { ensureTools, harnessVersions } from './lib/tools-install.mjs';

async function main() {
  const startedAt = new Date().toISOString();
  const cfg = loadConfig(process.env);
  ensureTools();
  const scenarios = selectScenarios(cfg.scenarios);
  const { tools, skipped } = selectTools(cfg);
  for (const s of skipped) console.log(`SKIPPING ${s.name}: ${s.reason}`);
  if (tools.length === 0) throw new Error('no tool to benchmark');

  const versions = [
    ...tools.map((t) => ({ name: t.name, version: t.version(), settings: t.settings })),
    ...Object.entries(harnessVersions()).map(([name, version]) => ({ name, version, settings: 'harness' })),
  ];
  console.log('versions:');
  for (const v of versions) console.log(`  ${v.name}: ${v.version}`);

  // The shared base/mutated pair, only when a selected scenario uses it (prune and history make their own).
  const images = scenarios.some((s) => s.usesImages) ? await prepareImages(cfg) : undefined;
  if (images) console.log(`image ${images.base.path}: ${images.base.sizeBytes} bytes; mutated: ${images.mutated.changedBytes} changed bytes`);

  await rm(cfg.runDir, { recursive: true, force: true });
  await mkdir(cfg.runDir, { recursive: true });
  const ctx = { cfg, images, tools };
  const results = [];
  for (const scenario of scenarios) {
    console.log(`\n== scenario ${scenario.id}: ${scenario.title}`);
    results.push(await scenario.run(ctx));
  }

  const failures = results.flatMap((r) => r.failures);
  const report = {
    cfg,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineInfo(cfg.workDir),
    versions,
    images,
    skipped,
    scenarios: results,
    failures,
  };
  const { md, mdPath, jsonPath } = await writeResults(report);
  console.log(`\n${md}`);
  console.log(`wrote ${mdPath} and ${jsonPath}`);
  if (failures.length) {
    console.error(`\nBENCH FAILED: ${failures.map((f) => `${f.scenario}/${f.tool}`).join(', ')} (see ${mdPath}; tool logs under test/bench/work/run/)`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(`bench error: ${e.stack ?? e}`);
  process.exitCode = 1;
});
