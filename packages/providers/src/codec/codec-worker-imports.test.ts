/**
 * What a codec thread loads before its first task. Every CLI archive, restore and verify starts
 * two threads, each loading codec-worker.js and @snapfleet/shared/codec anew: when that entry
 * reached zod (through the key file schema beside the master keys), each thread spent about
 * 0.15 s of CPU on it before doing any work. The threads load compiled code, so this checks dist/.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';

const WORKER = fileURLToPath(new URL('../../dist/codec/codec-worker.js', import.meta.url));

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'codec-imports-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The URL of every module `node` loads to import `file`, from a module loader hook. */
async function modulesLoadedBy(file: string): Promise<string[]> {
  const hooks = join(dir, 'hooks.mjs');
  await writeFile(hooks, `export async function load(url, context, next) { process.stderr.write('loaded ' + url + '\\n'); return next(url, context); }\n`);
  const register = join(dir, 'register.mjs');
  await writeFile(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const stderr = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', pathToFileURL(register).href, '--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(file).href)});`],
      { timeout: 60_000 },
      (err, _stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stderr)),
    );
  });
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('loaded '))
    .map((l) => l.slice('loaded '.length));
}

it('a codec thread loads the codecs and none of the schemas', async () => {
  const loaded = await modulesLoadedBy(WORKER);
  // The hook saw the thread's own modules: the codec entry and its zstd binding.
  expect(loaded.some((u) => u.includes('/shared/dist/parallel/index.js'))).toBe(true);
  expect(loaded.some((u) => u.includes('zstd-napi'))).toBe(true);
  const schemas = loaded.filter((u) => /\/zod[@/]/.test(u));
  expect(schemas, 'modules of zod loaded by a codec thread').toEqual([]);
});
