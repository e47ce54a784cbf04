/**
 * The EBS direct API calls of the fake AWS world. Reads serve a snapshot's frozen image:
 * ListSnapshotBlocks lists its non-zero 512 KiB blocks, ListChangedBlocks the blocks that differ
 * between two snapshots of one volume, GetSnapshotBlock the bytes with their SHA-256. Writes
 * (StartSnapshot, PutSnapshotBlock, CompleteSnapshot) build a new snapshot's image and log the
 * SHA-256 of every body, so a test can tell exactly what a restore sent.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { BLOCK_SIZE, GiB, imageBlockCount, isZeroBlock, readImageBlock, WorldError } from './world-files.mjs';

/** Page and block tokens are good for an hour, as the service's page tokens are. */
const TOKEN_LIFE_MS = 60 * 60_000;
/** The API's ceiling for one page. */
const MAX_RESULTS = 10_000;

const sha256 = (buf, encoding) => createHash('sha256').update(buf).digest(encoding);
const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64');

function decode(token, reason, what) {
  try {
    return JSON.parse(Buffer.from(token, 'base64').toString());
  } catch {
    throw new WorldError('ebs', 'ValidationException', `invalid ${what}`, reason);
  }
}

function blockToken(snapshotId, index) {
  return encode({ s: snapshotId, i: index });
}

/** A snapshot whose blocks can be read: exists in this region and has completed. */
function readable(world, id, region) {
  const s = world.snapshot(id ?? '');
  if (!s || s.region !== region) throw new WorldError('ebs', 'ResourceNotFoundException', `The snapshot ${id} does not exist.`, 'SNAPSHOT_NOT_FOUND');
  if (world.stateOf(s) !== 'completed')
    throw new WorldError('ebs', 'ValidationException', `The snapshot ${id} is ${world.stateOf(s)}, not completed.`, 'INVALID_SNAPSHOT_ID');
  return s;
}

/**
 * One page of a block listing, as the service pages: from the start index (or the NextToken's),
 * scan at most `scanBlocks` indexes and return at most `pageBlocks` matches; a NextToken as long
 * as blocks remain. `kind` and `key` are sealed into the token so it cannot be reused elsewhere.
 */
function listPage(world, input, kind, key, endBlock, match) {
  let at = input.StartingBlockIndex ?? 0;
  if (input.NextToken) {
    const t = decode(input.NextToken, 'INVALID_PAGE_TOKEN', 'NextToken');
    if (t.k !== kind || t.key !== key) throw new WorldError('ebs', 'ValidationException', 'The NextToken belongs to another listing.', 'INVALID_PAGE_TOKEN');
    at = t.at;
  }
  const { pageBlocks, scanBlocks } = world.settings;
  const limit = Math.min(pageBlocks, input.MaxResults ?? MAX_RESULTS);
  const scanEnd = Math.min(endBlock, at + scanBlocks);
  const found = [];
  for (; at < scanEnd && found.length < limit; at++) {
    const m = match(at);
    if (m) found.push(m);
  }
  return { found, ...(at < endBlock ? { NextToken: encode({ k: kind, key, at }) } : {}) };
}

function pageMeta(volumeSizeGiB) {
  return { ExpiryTime: new Date(Date.now() + TOKEN_LIFE_MS), VolumeSize: volumeSizeGiB, BlockSize: BLOCK_SIZE };
}

/** Whole volume blocks, but no further than the last block either image holds. */
function lastBlock(world, volumeSizeGiB, ...ids) {
  const volumeBlocks = (volumeSizeGiB * GiB) / BLOCK_SIZE;
  return Math.min(volumeBlocks, Math.max(...ids.map((id) => imageBlockCount(world.snapshotImage(id)))));
}

async function bodyBytes(data) {
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return Buffer.from(data);
  if (data && Symbol.asyncIterator in data) {
    const chunks = [];
    for await (const c of data) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
    return Buffer.concat(chunks);
  }
  throw new WorldError('ebs', 'ValidationException', 'BlockData is missing or of an unknown type', 'INVALID_PARAMETER_VALUE');
}

export function ebsHandlers(world) {
  return {
    ListSnapshotBlocks(input, region) {
      const s = readable(world, input.SnapshotId, region);
      const image = world.snapshotImage(s.id);
      const { found, NextToken } = listPage(world, input, 'blocks', s.id, lastBlock(world, s.volumeSizeGiB, s.id), (i) =>
        isZeroBlock(readImageBlock(image, i)) ? undefined : { BlockIndex: i, BlockToken: blockToken(s.id, i) },
      );
      return { Blocks: found, ...pageMeta(s.volumeSizeGiB), ...(NextToken ? { NextToken } : {}) };
    },

    ListChangedBlocks(input, region) {
      const first = readable(world, input.FirstSnapshotId, region);
      const second = readable(world, input.SecondSnapshotId, region);
      if (!first.volumeId || first.volumeId !== second.volumeId) {
        throw new WorldError('ebs', 'ValidationException', `${first.id} and ${second.id} are not snapshots of one volume.`, 'UNRELATED_SNAPSHOTS');
      }
      const [a, b] = [world.snapshotImage(first.id), world.snapshotImage(second.id)];
      const { found, NextToken } = listPage(
        world,
        input,
        'changed',
        `${first.id}/${second.id}`,
        lastBlock(world, second.volumeSizeGiB, first.id, second.id),
        (i) => {
          const [x, y] = [readImageBlock(a, i), readImageBlock(b, i)];
          if (x.equals(y)) return undefined;
          return {
            BlockIndex: i,
            // A block that holds data in only one of the two has a token in only that one.
            ...(isZeroBlock(x) ? {} : { FirstBlockToken: blockToken(first.id, i) }),
            ...(isZeroBlock(y) ? {} : { SecondBlockToken: blockToken(second.id, i) }),
          };
        },
      );
      return { ChangedBlocks: found, ...pageMeta(second.volumeSizeGiB), ...(NextToken ? { NextToken } : {}) };
    },

    GetSnapshotBlock(input, region) {
      const s = readable(world, input.SnapshotId, region);
      const t = decode(input.BlockToken ?? '', 'INVALID_BLOCK_TOKEN', 'BlockToken');
      if (t.s !== s.id || t.i !== input.BlockIndex)
        throw new WorldError('ebs', 'ValidationException', 'The BlockToken is not valid for this block.', 'INVALID_BLOCK_TOKEN');
      const data = readImageBlock(world.snapshotImage(s.id), input.BlockIndex);
      // A stream, as the SDK hands out: the reader must consume it like a real response body.
      return { BlockData: Readable.from([data]), DataLength: BLOCK_SIZE, Checksum: sha256(data, 'base64'), ChecksumAlgorithm: 'SHA256' };
    },

    StartSnapshot(input, region) {
      // A key says how to encrypt: EBS refuses one for a snapshot not asked to be encrypted.
      if (input.KmsKeyArn !== undefined && input.Encrypted !== true) {
        throw new WorldError('ebs', 'ValidationException', 'KmsKeyArn needs Encrypted set to true.', 'INVALID_PARAMETER_VALUE');
      }
      const again = input.ClientToken && world.snapshots().find((s) => s.region === region && s.origin === 'start' && s.clientToken === input.ClientToken);
      const record = again || {
        id: world.newId('snap'),
        region,
        origin: 'start',
        volumeSizeGiB: input.VolumeSize,
        tags: input.Tags ?? [],
        description: input.Description ?? '',
        clientToken: input.ClientToken,
        startTime: Date.now(),
        state: 'pending',
        pendingPolls: 0,
        encrypted: input.Encrypted === true,
        ...(input.KmsKeyArn ? { kmsKeyArn: input.KmsKeyArn } : {}),
      };
      if (!again) {
        fs.writeFileSync(world.snapshotImage(record.id), ''); // sparse: only written blocks take space
        world.saveSnapshot(record);
      }
      return {
        SnapshotId: record.id,
        Status: record.state,
        BlockSize: BLOCK_SIZE,
        VolumeSize: record.volumeSizeGiB,
        StartTime: new Date(record.startTime),
        Tags: record.tags,
        Description: record.description,
        OwnerId: '111122223333',
      };
    },

    async PutSnapshotBlock(input, region) {
      const s = world.snapshot(input.SnapshotId ?? '');
      if (!s || s.region !== region || s.origin !== 'start')
        throw new WorldError('ebs', 'ResourceNotFoundException', `The snapshot ${input.SnapshotId} does not exist.`, 'SNAPSHOT_NOT_FOUND');
      if (s.state !== 'pending')
        throw new WorldError('ebs', 'ValidationException', `The snapshot ${s.id} is ${s.state}: it takes no more blocks.`, 'INVALID_SNAPSHOT_ID');
      const index = input.BlockIndex;
      if (!Number.isInteger(index) || index < 0 || index >= (s.volumeSizeGiB * GiB) / BLOCK_SIZE) {
        throw new WorldError('ebs', 'ValidationException', `Block ${index} is outside the ${s.volumeSizeGiB} GiB snapshot.`, 'INVALID_BLOCK');
      }
      const data = await bodyBytes(input.BlockData);
      if (input.DataLength !== BLOCK_SIZE || data.byteLength !== BLOCK_SIZE) {
        throw new WorldError(
          'ebs',
          'ValidationException',
          `DataLength ${input.DataLength} with ${data.byteLength} bytes: blocks are ${BLOCK_SIZE} bytes.`,
          'INVALID_PARAMETER_VALUE',
        );
      }
      if (input.ChecksumAlgorithm !== 'SHA256' || input.Checksum !== sha256(data, 'base64')) {
        throw new WorldError('ebs', 'ValidationException', `The checksum of block ${index} does not match its data.`, 'INVALID_BLOCK');
      }
      const fd = fs.openSync(world.snapshotImage(s.id), 'r+');
      try {
        fs.writeSync(fd, data, 0, BLOCK_SIZE, index * BLOCK_SIZE);
      } finally {
        fs.closeSync(fd);
      }
      world.appendPut(s.id, index, sha256(data, 'hex'));
      return { Checksum: input.Checksum, ChecksumAlgorithm: 'SHA256' };
    },

    CompleteSnapshot(input, region) {
      const s = world.snapshot(input.SnapshotId ?? '');
      if (!s || s.region !== region || s.origin !== 'start')
        throw new WorldError('ebs', 'ResourceNotFoundException', `The snapshot ${input.SnapshotId} does not exist.`, 'SNAPSHOT_NOT_FOUND');
      if (s.state !== 'pending') return { Status: s.state }; // completing twice is harmless, as in EBS
      // EBS fails a snapshot whose writer miscounted its blocks: the count guards against lost puts.
      const written = new Set(world.puts(s.id).map((p) => p.index)).size;
      const ok = input.ChangedBlocksCount === written;
      world.saveSnapshot({ ...s, state: ok ? 'completed' : 'error', ...world.pendingFields(), completedAt: Date.now() });
      return { Status: ok ? 'pending' : 'error' };
    },
  };
}
