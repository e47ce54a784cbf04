/**
 * Writes a run file (run-format.ts) from records given in id order: into a temp file first,
 * renamed into place when whole, so a reader never sees half a run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import type { ListedPack } from '@snapfleet/shared';
import {
  PACK_ENTRY_BYTES,
  RECORD_BYTES,
  bucketOf,
  compareIds,
  encodeRunHeader,
  fanoutBitsFor,
  fanoutBytes,
  recordsStart,
  RUN_HEADER_BYTES,
} from './run-format.js';

const WRITE_BUFFER_BYTES = 1024 * 1024;
const FILE_MODE = 0o600;

export class RunWriter {
  readonly bits: number;
  private readonly fd: number;
  private readonly temp: string;
  private readonly counts: Uint32Array;
  private readonly buffer = Buffer.alloc(WRITE_BUFFER_BYTES);
  private used = 0;
  private written = 0;
  private filePos: number;
  private readonly last = Buffer.alloc(32);

  /** `records` is exactly how many `add` will be given. */
  constructor(
    private readonly path: string,
    private readonly records: number,
  ) {
    this.bits = fanoutBitsFor(records);
    this.counts = new Uint32Array(1 << this.bits);
    this.temp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
    this.fd = openSync(this.temp, 'wx', FILE_MODE);
    this.filePos = recordsStart(this.bits);
  }

  /** Appends the record of the id at `ids[offset..]`; ids must come in ascending order. */
  add(ids: Uint8Array, offset: number, packOrdinal: number): void {
    if (this.written > 0 && compareIds(ids, offset, this.last, 0) < 0) throw new Error('run records out of order');
    if (this.written === this.records) throw new Error(`more than the ${this.records} records announced`);
    this.last.set(ids.subarray(offset, offset + 32));
    this.buffer.set(ids.subarray(offset, offset + 32), this.used);
    this.buffer.writeUInt32LE(packOrdinal, this.used + 32);
    this.used += RECORD_BYTES;
    this.written++;
    this.counts[bucketOf(ids, offset, this.bits)]!++;
    if (this.used + RECORD_BYTES > this.buffer.byteLength) this.flush();
  }

  /** Writes the packs, fanout and header, and puts the file in place. */
  finish(packs: readonly ListedPack[]): void {
    try {
      if (this.written !== this.records) throw new Error(`run has ${this.written} records, ${this.records} announced`);
      this.flush();
      const packBytes = Buffer.alloc(packs.length * PACK_ENTRY_BYTES);
      packs.forEach((p, i) => {
        packBytes.write(p.packId, i * PACK_ENTRY_BYTES, 32, 'hex');
        packBytes.writeBigUInt64LE(BigInt(p.packLength), i * PACK_ENTRY_BYTES + 32);
      });
      this.writeAt(packBytes, this.filePos);
      const fanout = Buffer.alloc(fanoutBytes(this.bits));
      let at = 0;
      for (let b = 0; b < this.counts.length; b++) {
        fanout.writeUInt32LE(at, b * 4);
        at += this.counts[b]!;
      }
      fanout.writeUInt32LE(at, this.counts.length * 4);
      const checksum = createHash('sha256').update(fanout).update(packBytes).digest();
      this.writeAt(encodeRunHeader({ fanoutBits: this.bits, records: this.records, packs: packs.length, checksum }), 0);
      this.writeAt(fanout, RUN_HEADER_BYTES);
      fsyncSync(this.fd);
      closeSync(this.fd);
      renameSync(this.temp, this.path);
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Removes the temp file (after a failure). */
  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(this.temp);
    } catch {
      // already gone
    }
  }

  private flush(): void {
    if (this.used === 0) return;
    this.writeAt(this.buffer.subarray(0, this.used), this.filePos);
    this.filePos += this.used;
    this.used = 0;
  }

  private writeAt(data: Uint8Array, position: number): void {
    let done = 0;
    while (done < data.byteLength) done += writeSync(this.fd, data, done, data.byteLength - done, position + done);
  }
}

/**
 * Sorts `count` records (RECORD_BYTES each, unsorted) by id: a counting sort on the id's first
 * `bits` bits (ids are keyed hashes, uniformly spread, so buckets are small and even), then an
 * insertion sort inside each bucket. Linear in the records, unlike a comparison sort of millions.
 */
export function sortRecords(records: Buffer, count: number, bits: number): Buffer {
  const buckets = 1 << bits;
  const starts = new Uint32Array(buckets + 1);
  for (let i = 0; i < count; i++) starts[bucketOf(records, i * RECORD_BYTES, bits) + 1]!++;
  for (let b = 0; b < buckets; b++) starts[b + 1]! += starts[b]!;
  const next = starts.slice(0, buckets);
  const out = Buffer.allocUnsafe(count * RECORD_BYTES);
  for (let i = 0; i < count; i++) {
    const at = next[bucketOf(records, i * RECORD_BYTES, bits)]!++;
    records.copy(out, at * RECORD_BYTES, i * RECORD_BYTES, (i + 1) * RECORD_BYTES);
  }
  const held = Buffer.allocUnsafe(RECORD_BYTES);
  for (let b = 0; b < buckets; b++) {
    for (let i = starts[b]! + 1; i < starts[b + 1]!; i++) {
      let j = i - 1;
      if (compareIds(out, j * RECORD_BYTES, out, i * RECORD_BYTES) <= 0) continue;
      out.copy(held, 0, i * RECORD_BYTES, (i + 1) * RECORD_BYTES);
      while (j >= starts[b]! && compareIds(out, j * RECORD_BYTES, held, 0) > 0) j--;
      out.copyWithin((j + 2) * RECORD_BYTES, (j + 1) * RECORD_BYTES, i * RECORD_BYTES);
      held.copy(out, (j + 1) * RECORD_BYTES);
    }
  }
  return out;
}
