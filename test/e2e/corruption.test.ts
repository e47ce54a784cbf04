/**
 * One flipped byte inside a data frame of a pack in a folder repository. `verify` must exit 3
 * and name the snapshot and the blocks the damage affects; `restore` must exit 4 with one line
 * naming the snapshot, the block and the pack, and must leave nothing at (or beside) the
 * destination: no partial file, no temp file, and an existing destination file untouched.
 */
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobType, openRepository } from '@snapfleet/shared';
import { FolderBlobStore } from '@snapfleet/providers';
import { createImage, describeRun, listPacks, makeTempDir, parseJson, removeDir, runCli, snapfleetStderr, STACK_FRAME, type CliEnv } from '../support/cli.js';

const IMAGE_MIB = 32;
const PASSWORD = 'corrupt-pass-7Yh@pL2';

let work: string;
let image: string;

beforeAll(async () => {
  work = await makeTempDir('corrupt');
  image = join(work, 'disk.img');
  await createImage(image, IMAGE_MIB, 21);
});

afterAll(async () => {
  await removeDir(work);
});

/**
 * Finds a data frame through the pack header (read with the engine, so this works encrypted or
 * not) and flips one byte in its middle. Returns the pack id.
 */
async function flipByteInDataFrame(repoDir: string, password: string | undefined): Promise<{ packId: string; offset: number }> {
  const repo = await openRepository(new FolderBlobStore(repoDir), password ? { password } : {});
  for (const pack of await listPacks(repoDir)) {
    const frames = await repo.readPackHeader(`data/${pack.id.slice(0, 2)}/${pack.id}`, pack.size);
    let frameStart = 0;
    for (const f of frames) {
      if (f.type === BlobType.Data && f.storedLength > 64) {
        const offset = frameStart + Math.floor(f.storedLength / 2);
        const handle = await open(pack.path, 'r+');
        try {
          const byte = Buffer.alloc(1);
          await handle.read(byte, 0, 1, offset);
          byte[0] = byte[0]! ^ 0x5a;
          await handle.write(byte, 0, 1, offset);
        } finally {
          await handle.close();
        }
        return { packId: pack.id, offset };
      }
      frameStart += f.storedLength;
    }
  }
  throw new Error(`no data frame found in the packs of ${repoDir}`);
}

/** Block numbers from verify's text lines "affects snapshot 1234abcd (vol) blocks 7-9, 12 (4 in all)". */
function blocksNamed(text: string, snapshotPrefix: string): number[] {
  const out: number[] = [];
  const line = new RegExp(`affects snapshot ${snapshotPrefix} \\([^)]*\\) blocks? ([\\d, -]+)`, 'g');
  for (const m of text.matchAll(line)) {
    for (const part of m[1]!
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const [first, last] = part.split('-').map(Number);
      for (let b = first!; b <= (last ?? first!); b++) out.push(b);
    }
  }
  return out;
}

describe.each([{ encrypted: true }, { encrypted: false }])('a flipped byte in a pack (encrypted=$encrypted)', ({ encrypted }) => {
  let dir: string;
  let repoDir: string;
  let env: CliEnv;
  let snapshotId: string;
  let packId: string;

  beforeAll(async () => {
    dir = await makeTempDir(`corrupt-${encrypted ? 'enc' : 'plain'}`);
    repoDir = join(dir, 'repo');
    env = { SNAPFLEET_REPOSITORY: repoDir, ...(encrypted ? { SNAPFLEET_PASSWORD: PASSWORD } : {}) };
    const init = await runCli(['init', ...(encrypted ? [] : ['--no-encryption'])], env);
    expect(init.code, describeRun(init)).toBe(0);
    const archive = await runCli(['archive', image, '--volume-id', 'vol-c', '--json'], env);
    expect(archive.code, describeRun(archive)).toBe(0);
    snapshotId = parseJson<{ snapshot: string }>(archive).snapshot;
    const before = await runCli(['verify'], env);
    expect(before.code, describeRun(before)).toBe(0);
    ({ packId } = await flipByteInDataFrame(repoDir, encrypted ? PASSWORD : undefined));
  });

  afterAll(async () => {
    await removeDir(dir);
  });

  it('verify exits 3 and names the snapshot and the affected blocks', async () => {
    const r = await runCli(['verify'], env);
    expect(r.code, describeRun(r)).toBe(3);
    expect(r.stdout).toContain(`pack ${packId}`);
    expect(r.stdout).toMatch(/\d+ problem\(s\) found/);
    const blocks = blocksNamed(r.stdout, snapshotId.slice(0, 8));
    expect(blocks.length, describeRun(r)).toBeGreaterThan(0);
    expect(blocks.every((b) => Number.isInteger(b) && b >= 0 && b < (IMAGE_MIB * 1024 * 1024) / 4096)).toBe(true);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    if (encrypted) expect(r.stdout + r.stderr).not.toContain(PASSWORD);

    // The JSON report says the same, structurally.
    const json = await runCli(['verify', '--json'], env);
    expect(json.code, describeRun(json)).toBe(3);
    const report = parseJson<{ problems: Array<{ kind: string; object?: string; affected: Array<{ snapshotId: string; ranges: [number, number][] }> }> }>(json);
    expect(report.problems.length).toBeGreaterThan(0);
    expect(report.problems.every((p) => p.kind === 'corrupt-blob' && p.object === `data/${packId.slice(0, 2)}/${packId}`)).toBe(true);
    const jsonBlocks = report.problems.flatMap((p) =>
      p.affected
        .filter((a) => a.snapshotId === snapshotId)
        .flatMap((a) => a.ranges.flatMap(([first, count]) => Array.from({ length: count }, (_, i) => first + i))),
    );
    expect(new Set(jsonBlocks)).toEqual(new Set(blocks));
  });

  it('restore exits 4 with one line naming the snapshot, block and pack, and leaves no file behind', async () => {
    const verify = await runCli(['verify', '--json'], env);
    const bad = new Set(
      parseJson<{ problems: Array<{ affected: Array<{ ranges: [number, number][] }> }> }>(verify).problems.flatMap((p) =>
        p.affected.flatMap((a) => a.ranges.flatMap(([first, count]) => Array.from({ length: count }, (_, i) => first + i))),
      ),
    );

    const out = join(dir, 'out');
    await mkdir(out);
    const dest = join(out, 'restored.img');
    const r = await runCli(['restore', '--snapshot', 'latest', '--to', dest], env);
    expect(r.code, describeRun(r)).toBe(4);
    const message = snapfleetStderr(r.stderr);
    expect(message.split('\n'), describeRun(r)).toHaveLength(1);
    expect(message).toMatch(/^snapfleet: /);
    expect(message).toContain(`snapshot ${snapshotId}`);
    expect(message).toContain(`pack ${packId}`);
    const block = Number(/ block (\d+)/.exec(message)?.[1]);
    expect(bad.has(block), `restore named block ${block}, verify named ${[...bad].join(', ')}`).toBe(true);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    if (encrypted) expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    // No destination file, and no temp file beside it.
    expect(await readdir(out)).toEqual([]);
  });

  it('a failed restore leaves an existing destination file as it was', async () => {
    const out = join(dir, 'existing');
    await mkdir(out);
    const dest = join(out, 'restored.img');
    await writeFile(dest, 'the previous contents\n');
    // Without --overwrite an existing file is refused before anything is read.
    const refused = await runCli(['restore', '--snapshot', snapshotId.slice(0, 12), '--to', dest], env);
    expect(refused.code, describeRun(refused)).toBe(2);
    expect(refused.stderr).toMatch(/restored\.img exists; pass --overwrite to replace it \[to\]/);
    const r = await runCli(['restore', '--snapshot', snapshotId.slice(0, 12), '--to', dest, '--overwrite'], env);
    expect(r.code, describeRun(r)).toBe(4);
    expect(await readFile(dest, 'utf8')).toBe('the previous contents\n');
    expect(await readdir(out)).toEqual(['restored.img']);
  });
});
