/**
 * The EBS direct API commands of the fake world, as aws-sdk-client-mock handlers answering with the
 * service's shapes: pages with NextToken and ExpiryTime, block data as an SDK stream with a base64
 * SHA-256, and the service's exceptions (RequestThrottledException, ResourceNotFoundException,
 * ValidationException with its Reason).
 */
import { Readable } from 'node:stream';
import {
  CompleteSnapshotCommand,
  GetSnapshotBlockCommand,
  ListChangedBlocksCommand,
  ListSnapshotBlocksCommand,
  PutSnapshotBlockCommand,
  RequestThrottledException,
  ResourceNotFoundException,
  StartSnapshotCommand,
  ValidationException,
  type ValidationExceptionReason,
  type GetSnapshotBlockCommandOutput,
} from '@aws-sdk/client-ebs';
import type { AwsStub } from 'aws-sdk-client-mock';
import type { FakeEbsCommand, FakeEbsState, FakeSnapshot } from './fake-ebs-state.js';

const meta = (status: number) => ({ httpStatusCode: status, requestId: 'fake-request-id', attempts: 1, totalRetryDelay: 0 });

function notFound(id: string): ResourceNotFoundException {
  return new ResourceNotFoundException({ message: `The snapshot '${id}' does not exist.`, $metadata: meta(404), Reason: 'SNAPSHOT_NOT_FOUND' });
}

function invalid(message: string, reason: ValidationExceptionReason): ValidationException {
  return new ValidationException({ message, $metadata: meta(400), Reason: reason });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the stub's input/output types vary per command
export function installFakeEbsHandlers(stub: AwsStub<any, any, any>, world: FakeEbsState): void {
  const enter = (command: FakeEbsCommand) => {
    world.calls.set(command, world.callCount(command) + 1);
    const left = world.throttled.get(command) ?? 0;
    if (left > 0) {
      world.throttled.set(command, left - 1);
      throw new RequestThrottledException({ message: 'Rate exceeded', $metadata: meta(400), Reason: 'ACCOUNT_THROTTLED' });
    }
  };
  const readable = (id: string | undefined): FakeSnapshot => {
    const s = id === undefined ? undefined : world.snapshots.get(id);
    if (!s || s.deleted) throw notFound(id ?? '');
    if (s.state !== 'completed') throw invalid(`The snapshot '${s.id}' is not completed.`, 'INVALID_SNAPSHOT_ID');
    return s;
  };

  stub.on(ListSnapshotBlocksCommand).callsFake(async (input: ListSnapshotBlocksCommand['input']) => {
    enter('ListSnapshotBlocks');
    const s = readable(input.SnapshotId);
    const indexes = [...s.blocks.keys()].sort((a, b) => a - b);
    const page = pageOf(world, indexes, input);
    return {
      ...page.meta,
      VolumeSize: s.volumeSizeGiB,
      BlockSize: 524288,
      Blocks: page.indexes.map((i) => ({ BlockIndex: i, BlockToken: world.tokenFor(s, i) })),
    };
  });

  stub.on(ListChangedBlocksCommand).callsFake(async (input: ListChangedBlocksCommand['input']) => {
    enter('ListChangedBlocks');
    const first = readable(input.FirstSnapshotId);
    const second = readable(input.SecondSnapshotId);
    if (!first.volumeId || first.volumeId !== second.volumeId) {
      throw invalid(`The snapshots '${first.id}' and '${second.id}' are not of the same lineage.`, 'UNRELATED_SNAPSHOTS');
    }
    const all = new Set([...first.blocks.keys(), ...second.blocks.keys()]);
    const changed = [...all].filter((i) => !sameBlock(first.blocks.get(i), second.blocks.get(i))).sort((a, b) => a - b);
    const page = pageOf(world, changed, input);
    return {
      ...page.meta,
      VolumeSize: second.volumeSizeGiB,
      BlockSize: 524288,
      ChangedBlocks: page.indexes.map((i) => ({
        BlockIndex: i,
        ...(first.blocks.has(i) ? { FirstBlockToken: world.tokenFor(first, i) } : {}),
        ...(second.blocks.has(i) ? { SecondBlockToken: world.tokenFor(second, i) } : {}),
      })),
    };
  });

  stub.on(GetSnapshotBlockCommand).callsFake(async (input: GetSnapshotBlockCommand['input']) => {
    enter('GetSnapshotBlock');
    const s = readable(input.SnapshotId);
    const index = input.BlockIndex ?? -1;
    const block = s.blocks.get(index);
    if (!block || input.BlockToken !== world.tokenFor(s, index)) throw invalid('The block token is not valid.', 'INVALID_BLOCK_TOKEN');
    const data = new Uint8Array(block);
    if (world.corrupt.has(`${s.id}:${index}`)) data[1234] = data[1234]! ^ 0xff;
    // Two pieces, as a socket delivers them: the reader must stitch chunks together.
    const body = Object.assign(Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), {
      transformToByteArray: async () => data,
      transformToString: async () => Buffer.from(data).toString(),
      transformToWebStream: () => {
        throw new Error('not used');
      },
    }) as unknown as GetSnapshotBlockCommandOutput['BlockData'];
    return { DataLength: data.byteLength, BlockData: body, Checksum: world.checksum(block), ChecksumAlgorithm: 'SHA256', $metadata: meta(200) };
  });

  stub.on(StartSnapshotCommand).callsFake(async (input: StartSnapshotCommand['input']) => {
    enter('StartSnapshot');
    const again = [...world.snapshots.values()].find((s) => input.ClientToken && s.clientToken === input.ClientToken);
    const s =
      again ??
      world.startSnapshot(input.VolumeSize ?? 0, {
        ...(input.Description !== undefined ? { description: input.Description } : {}),
        ...(input.Tags ? { tags: Object.fromEntries(input.Tags.map((t) => [t.Key ?? '', t.Value ?? ''])) } : {}),
        ...(input.ClientToken !== undefined ? { clientToken: input.ClientToken } : {}),
        ...(input.Encrypted !== undefined ? { encrypted: input.Encrypted } : {}),
        ...(input.KmsKeyArn !== undefined ? { kmsKeyArn: input.KmsKeyArn } : {}),
        ...(input.Timeout !== undefined ? { timeoutMinutes: input.Timeout } : {}),
      });
    return {
      SnapshotId: s.id,
      OwnerId: '123456789012',
      Status: 'pending',
      VolumeSize: s.volumeSizeGiB,
      BlockSize: 524288,
      StartTime: new Date(world.time),
      $metadata: meta(201),
    };
  });

  stub.on(PutSnapshotBlockCommand).callsFake(async (input: PutSnapshotBlockCommand['input']) => {
    enter('PutSnapshotBlock');
    await world.beforePut?.();
    const s = world.snapshots.get(input.SnapshotId ?? '');
    if (!s || s.deleted) throw notFound(input.SnapshotId ?? '');
    if (s.invisibleFor > 0) {
      s.invisibleFor--;
      throw notFound(s.id);
    }
    if (s.state !== 'pending') throw invalid(`The snapshot '${s.id}' is not pending.`, 'INVALID_SNAPSHOT_ID');
    const data = input.BlockData as Uint8Array;
    if (!(data instanceof Uint8Array) || data.byteLength !== 524288 || input.DataLength !== data.byteLength) {
      throw invalid('DataLength must be 524288 and match the body.', 'INVALID_BLOCK');
    }
    if (input.ChecksumAlgorithm !== 'SHA256' || input.Checksum !== world.checksum(data)) throw invalid('The checksum does not match.', 'INVALID_BLOCK');
    const index = input.BlockIndex ?? -1;
    if (index < 0 || index * 524288 >= s.volumeSizeGiB * 1024 ** 3) throw invalid(`Block ${index} is outside the volume.`, 'INVALID_BLOCK');
    // Stored as a copy, hashed now: the caller reuses its buffer once the call returns.
    s.blocks.set(index, new Uint8Array(data));
    world.putHashes.set(`${s.id}:${index}`, world.checksum(data));
    return { Checksum: input.Checksum, ChecksumAlgorithm: 'SHA256', $metadata: meta(201) };
  });

  stub.on(CompleteSnapshotCommand).callsFake(async (input: CompleteSnapshotCommand['input']) => {
    enter('CompleteSnapshot');
    const s = world.snapshots.get(input.SnapshotId ?? '');
    if (!s || s.deleted) throw notFound(input.SnapshotId ?? '');
    s.changedBlocksCount = input.ChangedBlocksCount ?? 0;
    // EBS seals the snapshot asynchronously; a wrong count ends in state error.
    s.state = s.changedBlocksCount === s.blocks.size ? 'completed' : 'error';
    return { Status: 'pending', $metadata: meta(202) };
  });
}

interface PageInput {
  NextToken?: string | undefined;
  StartingBlockIndex?: number | undefined;
  MaxResults?: number | undefined;
}

/** One page of `indexes`, preceded by `world.emptyPages` empty pages that carry a NextToken. */
function pageOf(world: FakeEbsState, indexes: number[], input: PageInput) {
  let start = input.StartingBlockIndex ?? 0;
  let empties = world.emptyPages;
  if (input.NextToken !== undefined) {
    if (world.rejectPageTokens > 0) {
      world.rejectPageTokens--;
      throw invalid('The pagination token has expired.', 'INVALID_PAGE_TOKEN');
    }
    const parsed = /^(\d+)\.(\d+)$/.exec(Buffer.from(input.NextToken, 'base64').toString());
    if (!parsed) throw invalid('The pagination token is not valid.', 'INVALID_PAGE_TOKEN');
    start = Number(parsed[1]);
    empties = Number(parsed[2]);
  }
  const token = (from: number, emptyLeft: number) => Buffer.from(`${from}.${emptyLeft}`).toString('base64');
  const meta = { ExpiryTime: world.expiry(), $metadata: { httpStatusCode: 200 } };
  const rest = indexes.filter((i) => i >= start);
  if (empties > 0 && rest.length > 0) return { indexes: [], meta: { ...meta, NextToken: token(start, empties - 1) } };
  const size = Math.min(world.pageSize, Math.max(100, input.MaxResults ?? 10_000));
  const page = rest.slice(0, size);
  const more = rest.length > page.length;
  return { indexes: page, meta: more ? { ...meta, NextToken: token(page.at(-1)! + 1, world.emptyPages) } : meta };
}

function sameBlock(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
