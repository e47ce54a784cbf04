/**
 * Import rules that eslint's per-file view cannot check: the layers of the engine
 * (packages/shared/src, docs/architecture.md "Layers of the engine") and no import cycles in any
 * package. `pnpm lint` runs it (`pnpm lint:deps`).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';

const SHARED = 'packages/shared/src';

/**
 * Each folder of the engine with the folders directly below it; a folder may import the folders
 * below those too, and errors.ts (beneath everything). Nothing else: an import that climbs, or
 * goes sideways to a folder not below, is an error. Keep docs/architecture.md's table in step.
 */
const layers = {
  format: [],
  ports: ['format'],
  retention: [],
  config: ['ports', 'retention'],
  compliance: ['config'],
  cost: ['config'],
  jobs: ['config'],
  testing: ['config'],
  parallel: ['format'],
  content: ['parallel', 'ports'],
  manifest: ['content'],
  engine: ['manifest', 'retention'],
};

function below(folder, seen = new Set()) {
  for (const lower of layers[folder]) {
    if (!seen.has(lower)) {
      seen.add(lower);
      below(lower, seen);
    }
  }
  return seen;
}

// A new folder must take its place in the order before anything can be said about its imports.
const folders = readdirSync(path.join(import.meta.dirname, SHARED), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);
const unplaced = folders.filter((f) => !(f in layers));
if (unplaced.length) throw new Error(`.dependency-cruiser.mjs: place ${unplaced.join(', ')} (${SHARED}) in the layers`);

const layerRules = Object.keys(layers).map((folder) => ({
  name: `layer-${folder}`,
  severity: 'error',
  comment: `${SHARED}/${folder} may import only ${[...below(folder)].join(', ') || 'nothing but errors.ts'} (docs/architecture.md)`,
  // Tests and their helpers (test-*.ts) sit beside the code they test but may use anything
  // (fakes from testing/, the engine).
  from: { path: `^${SHARED}/${folder}/`, pathNot: '\\.test\\.ts$|/test-[^/]*\\.ts$' },
  to: { path: `^${SHARED}/`, pathNot: `^${SHARED}/(${[folder, ...below(folder)].join('|')})/|^${SHARED}/errors\\.ts$` },
}));

export default {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules in a cycle cannot be understood, tested or loaded one at a time; move the shared part down',
      from: {},
      to: { circular: true },
    },
    {
      // An import the cruiser cannot follow would escape every rule above unseen.
      name: 'no-unresolvable-relative',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, path: '^\\.' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/|^test/(bench/work|artifacts)/' },
    // Type-only imports count: a type that climbs a layer ties the layers together all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: true,
    // Workspace packages resolve to their sources (the "source" export condition), so cycles
    // across packages are found without a build.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['source', 'import', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
  },
};
