/**
 * One GetSnapshotBlock: the block's bytes streamed straight into the caller's buffer, then checked
 * against the SHA-256 the service computed when the block was written. Bytes that fail the check
 * throw CorruptDataError before anyone sees them: an archive must never store (and deduplicate
 * against) a block the service itself says is not what was written.
 */
import { createHash } from 'node:crypto';
import { GetSnapshotBlockCommand } from '@aws-sdk/client-ebs';
import { CorruptDataError, PermanentError, TransientError } from '@snapfleet/shared';
import { callAws } from './aws-call.js';
import { ebsCallContext, type EbsApi } from './ebs-api.js';

/** The EBS direct APIs read and write snapshots in 512 KiB blocks, fixed by the service. */
export const EBS_BLOCK_SIZE = 512 * 1024;

/**
 * Reads block `index` of `snapshotId` with `token` into `into` (at least EBS_BLOCK_SIZE bytes)
 * and verifies it. Retries (under the limiter) broken and truncated transfers; a checksum
 * mismatch is not retried: the service returned what it holds.
 */
export async function getSnapshotBlock(api: EbsApi, snapshotId: string, index: number, token: string, into: Uint8Array): Promise<void> {
  const where = `block ${index} (byte offset ${index * EBS_BLOCK_SIZE}) of EBS snapshot ${snapshotId}`;
  const what = `EBS GetSnapshotBlock of ${where} in ${api.region}`;
  const got = await callAws(what, ebsCallContext(api, 'get', snapshotId), async (abortSignal) => {
    const out = await api.client.send(new GetSnapshotBlockCommand({ SnapshotId: snapshotId, BlockIndex: index, BlockToken: token }), { abortSignal });
    if (out.DataLength !== EBS_BLOCK_SIZE) {
      discard(out.BlockData);
      throw new PermanentError(`${what} returned DataLength ${out.DataLength}, expected ${EBS_BLOCK_SIZE}`);
    }
    const length = await readBody(out.BlockData, into, what);
    if (length !== EBS_BLOCK_SIZE) throw new TransientError(`${what} ended after ${length} of ${EBS_BLOCK_SIZE} bytes`);
    return { checksum: out.Checksum, algorithm: out.ChecksumAlgorithm };
  });
  if (got.algorithm !== 'SHA256' || !got.checksum) {
    throw new PermanentError(`${what} returned no SHA256 checksum (algorithm ${got.algorithm ?? 'none'}): the block cannot be verified`);
  }
  const actual = createHash('sha256').update(into.subarray(0, EBS_BLOCK_SIZE)).digest('base64');
  if (actual !== got.checksum) {
    throw new CorruptDataError(`${where}: checksum mismatch (the service reports SHA-256 ${got.checksum}, the data read hashes to ${actual})`, {
      object: snapshotId,
      byteOffset: index * EBS_BLOCK_SIZE,
    });
  }
}

type Body = AsyncIterable<Uint8Array | string> | Uint8Array | { transformToByteArray(): Promise<Uint8Array> } | undefined;

/** Copies the response body into `into`; returns its length. A body longer than `into` is an error. */
async function readBody(body: unknown, into: Uint8Array, what: string): Promise<number> {
  const b = body as Body;
  if (b === undefined) throw new TransientError(`${what} returned no data`);
  const tooLong = () => new PermanentError(`${what} returned more than ${into.byteLength} bytes`);
  if (b instanceof Uint8Array) {
    if (b.byteLength > into.byteLength) throw tooLong();
    into.set(b);
    return b.byteLength;
  }
  if (Symbol.asyncIterator in b) {
    let at = 0;
    try {
      for await (const piece of b) {
        const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
        if (at + chunk.byteLength > into.byteLength) throw tooLong();
        into.set(chunk, at);
        at += chunk.byteLength;
      }
    } catch (err) {
      discard(b);
      throw err;
    }
    return at;
  }
  return readBody(await b.transformToByteArray(), into, what);
}

/** Releases a body nobody will read, so its connection goes back to the pool. */
function discard(body: unknown): void {
  const stream = body as { destroy?: () => void } | undefined;
  stream?.destroy?.();
}
