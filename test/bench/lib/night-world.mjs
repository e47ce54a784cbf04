// The "night" scenario's simulated AWS account: a fake world (test/support/aws-world) of many
// tiny EBS volumes spread over policies by tag. Each volume is 1 GiB to EC2 (whole GiB, as EBS
// sizes them) but its image file holds only its first blocks, written at their offsets so the
// holes between them stay sparse: 2,000 volumes take a few GB of disk at most.
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { BLOCK_SIZE, World } from '../../support/aws-world/world-files.mjs';

export const NIGHT_REGION = 'us-east-1';
/** The policies and the tag each selects on: a volume carries exactly one of them. */
export const NIGHT_POLICIES = [
  { name: 'web', tag: 'tier=web' },
  { name: 'db', tag: 'tier=db' },
  { name: 'batch', tag: 'tier=batch' },
];
/** Block layouts (`D` data, `.` a hole) the volumes take in turn: 2 or 3 data blocks, 2.5 on average. */
const LAYOUTS = ['D.D', 'DD.D'];

/**
 * World settings for this scale: EC2 answers DescribeVolumes in pages of up to 500 (the world's
 * default of 2 is for paging tests; EC2 allows 1,000 per page), and a block listing returns up to
 * 1,000 blocks (EBS's ListSnapshotBlocks allows 10,000), so listing costs stay what they are on AWS.
 * Snapshots are completed at once: the night measures the block-request budget, not EBS's copy time.
 */
export const NIGHT_WORLD_SETTINGS = { pendingPolls: 0, pendingMs: 0, pageBlocks: 1000, scanBlocks: 2048, describePage: 500 };

/** `vol-` and 17 hex digits, as EC2's ids; the index in the middle keeps them sorted and unique. */
export const nightVolumeId = (i) => `vol-0${i.toString(16).padStart(16, '0')}`;

export function nightVolumes(count) {
  return Array.from({ length: count }, (_, i) => {
    const policy = NIGHT_POLICIES[i % NIGHT_POLICIES.length];
    const layout = LAYOUTS[i % LAYOUTS.length];
    return { id: nightVolumeId(i), policy: policy.name, tag: policy.tag, layout, dataBlocks: [...layout].filter((c) => c === 'D').length };
  });
}

/**
 * A data block as the world's tests make them: 4 KiB of random bytes repeated, so every block
 * differs from every other (no dedup between volumes) yet compresses ~100x: the night spends
 * its time on requests, not on zstd.
 */
function dataBlock() {
  const page = randomBytes(4096);
  return Buffer.concat(Array.from({ length: BLOCK_SIZE / page.byteLength }, () => page));
}

/** Creates the world in `dir`; returns it, its volumes, and the bytes their image files span. */
export function buildNightWorld(dir, count) {
  const world = World.create(dir, NIGHT_WORLD_SETTINGS);
  const volumes = nightVolumes(count);
  for (const v of volumes) {
    const fd = openSync(world.volumeImage(v.id), 'w');
    try {
      [...v.layout].forEach((c, index) => {
        if (c === 'D') writeSync(fd, dataBlock(), 0, BLOCK_SIZE, index * BLOCK_SIZE);
      });
    } finally {
      closeSync(fd);
    }
    const [key, value] = v.tag.split('=');
    world.addVolume({
      id: v.id,
      region: NIGHT_REGION,
      sizeGiB: 1,
      tags: [
        { Key: key, Value: value },
        { Key: 'Name', Value: `night-${v.id.slice(-5)}` },
      ],
    });
  }
  return { world, volumes, imageBytes: volumes.reduce((n, v) => n + v.layout.length * BLOCK_SIZE, 0) };
}

/** sha256 of `bytes` read as `length` bytes, zero-extended: an EBS volume reads zeros past its image file. */
export function zeroExtendedSha256(bytes, length) {
  const h = createHash('sha256');
  h.update(bytes.subarray(0, Math.min(bytes.length, length)));
  const zeros = Buffer.alloc(BLOCK_SIZE * 16);
  for (let left = length - Math.min(bytes.length, length); left > 0; left -= zeros.length) h.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
  return h.digest('hex');
}
