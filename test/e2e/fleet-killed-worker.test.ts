/**
 * A worker killed with SIGKILL in the middle of an archive: BullMQ's stalled-job check hands the
 * job to another worker (short lockDuration / stalledInterval from the config), which completes
 * it; the repository verifies, the volume has exactly one snapshot, the packs the dead worker
 * stored survive, and the repository holds exactly the image's distinct blobs. A pack the kill
 * caught between its own put and its index object's is not looked for by the next archive (that
 * takes a listing of every pack); its blobs are stored again, and maintenance or prune adopts it
 * later and drains the second copy (docs/format.md, ordering invariant 3).
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRepository, type Repository } from '@snapfleet/shared';
import { FolderBlobStore } from '@snapfleet/providers';
import { describeRun, listPacks, makeTempDir, parseJson, removeDir, runCli } from '../support/cli.js';
import {
  deletePrefix,
  fleetConfig,
  listSnapshots,
  makeFleet,
  openQueue,
  restoresIdentical,
  spawnFleet,
  stopFleet,
  uniquePrefix,
  waitFor,
  type FleetFixture,
  type FleetProcess,
} from '../support/fleet.js';

describe('a worker killed mid-archive', () => {
  let dir: string;
  let fleet: FleetFixture;
  const prefix = uniquePrefix('kill');
  const env = { REDIS_URL: 'redis://127.0.0.1:6379', SNAPFLEET_LOG_LEVEL: 'info' };
  const procs: FleetProcess[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('fleet-kill');
    fleet = await makeFleet(dir, {
      volumes: 1,
      sizeMiB: 64,
      // zstd level 15 on one codec thread makes the archive take seconds, long enough to kill;
      // 1 MiB packs are stored all along the run, not only at its end, so there is a wide window
      // with packs stored and the archive unfinished.
      config: (f) => ({
        ...fleetConfig(f, { fleet: { worker: { codecThreads: 1, lockDuration: '2s', stalledInterval: '1s', shutdownTimeout: '5s' }, locks: { ttl: '2s' } } }),
        repositories: { main: { url: f.repo, passwordFile: f.passwordFile, compressionLevel: 15, packSizeMiB: 1 } },
      }),
    });
  });
  afterAll(async () => {
    await Promise.allSettled(procs.map((p) => stopFleet(p, 2_000)));
    await deletePrefix(prefix);
    await removeDir(dir);
  });

  it('is taken over, completes, and stores nothing twice', async () => {
    const a = spawnFleet(['worker', '--config', fleet.config, '--prefix', prefix], env);
    procs.push(a);
    const enqueue = await runCli(['backup-now', '--config', fleet.config, '--prefix', prefix, '--policy', 'every', '--json'], env);
    expect(enqueue.code, describeRun(enqueue)).toBe(0);
    const { jobs } = parseJson<{ jobs: { archiveJobId: string; retentionJobId: string }[] }>(enqueue);
    const archiveQueue = openQueue('archive', prefix);
    const retentionQueue = openQueue('retention', prefix);
    try {
      // Kill once the archive is under way and has stored at least one pack, before it finishes.
      await waitFor(
        'archive progress with a stored pack',
        async () => {
          const p = (await archiveQueue.getJob(jobs[0]!.archiveJobId))?.progress as { bytesDone?: number; bytesTotal?: number } | undefined;
          return !!p?.bytesTotal && p.bytesDone! < p.bytesTotal && (await listPacks(fleet.repo)).length > 0;
        },
        60_000,
        50,
      );
      a.child.kill('SIGKILL');
      await a.done;
      const packsAtKill = (await listPacks(fleet.repo)).map((p) => p.id);
      expect(packsAtKill.length).toBeGreaterThan(0);
      const reader = await openRepository(new FolderBlobStore(fleet.repo), { password: (await readFile(fleet.passwordFile, 'utf8')).trim() });
      expect(await listSnapshots(fleet)).toHaveLength(0);

      const b = spawnFleet(['worker', '--config', fleet.config, '--prefix', prefix], env);
      procs.push(b);
      await waitFor('the flow to complete', async () => (await retentionQueue.getJobState(jobs[0]!.retentionJobId)) === 'completed', 60_000);
      const bResult = await stopFleet(b);
      expect(bResult.stderr).toMatch(/"msg":"job stalled|"msg":"job started".*"attempt":2|stalled/);

      const snapshots = await listSnapshots(fleet);
      expect(snapshots).toHaveLength(1);
      expect(await restoresIdentical(fleet, snapshots[0]!.id, fleet.volumes[0]!.path)).toBe(true);
      // Packs stored before the kill survive and are used.
      const packsAfter = new Set((await listPacks(fleet.repo)).map((p) => p.id));
      for (const id of packsAtKill) expect(packsAfter.has(id)).toBe(true);

      const verify = await runCli(['verify', '--repo', fleet.repo, '--password-file', fleet.passwordFile, '--json']);
      expect(verify.code, describeRun(verify)).toBe(0);
      const blobs = parseJson<{ blobsChecked: number; problems: { kind: string; severity: string }[] }>(verify);
      // Nothing damaged; packs the kill left without an index object are notices for maintenance.
      for (const p of blobs.problems) expect(p).toMatchObject({ kind: 'unindexed-pack', severity: 'notice' });

      // The same image archived once into a fresh repository holds the same distinct blobs:
      // nothing missing, nothing made up. (How many copies exist besides depends on when the
      // retention job's prune ran: copies of a pack the kill left unindexed are drained by it.)
      const ref = join(dir, 'reference');
      expect((await runCli(['init', '--repo', ref, '--no-encryption'])).code).toBe(0);
      expect((await runCli(['archive', '--repo', ref, '--volume-id', 'x', '--compression-level', '1', fleet.volumes[0]!.path])).code).toBe(0);
      const refReader = await openRepository(new FolderBlobStore(ref), {});
      expect(await distinctBlobs(reader, fleet.repo)).toBe(await distinctBlobs(refReader, ref));
    } finally {
      await archiveQueue.close();
      await retentionQueue.close();
    }
  });
});

/** Distinct blob ids over every pack of a folder repository, read from the packs' own headers. */
async function distinctBlobs(repo: Repository, repoDir: string): Promise<number> {
  const ids = new Set<string>();
  for (const p of await listPacks(repoDir)) {
    for (const frame of await repo.readPackHeader(`data/${p.id.slice(0, 2)}/${p.id}`, p.size)) {
      for (let i = 0; i < frame.lengths.length; i++) ids.add(Buffer.from(frame.ids.subarray(i * 32, (i + 1) * 32)).toString('hex'));
    }
  }
  return ids.size;
}
