/**
 * A run: one immutable file of the host index table, holding (blob id, pack) records sorted by
 * id, a fanout table that says where each id prefix's records start, and the packs the records
 * name. Host-local, never in the bucket (docs/operations.md, "The host index table").
 *
 * Layout, little-endian:
 *   0   "SFRT"           magic
 *   4   u8               RUN_VERSION
 *   5   u8               fanout bits b: records are bucketed by the first b bits of the id
 *   6   u16              0
 *   8   u32              record count n
 *   12  u32              pack count p
 *   16  32 bytes         SHA-256 of the fanout and pack sections (read whole at every open)
 *   48  (2^b + 1) x u32  fanout: index of the first record of each bucket, then n
 *   ..  n x 36           records: blob id (32), pack ordinal (u32)
 *   ..  p x 40           packs: pack id (32 raw bytes), pack length (u64)
 *
 * Records are not covered by the checksum: they are read a bucket at a time, and a damaged one
 * can only make a lookup miss (the blob is stored again) or name a wrong pack (a restore finds
 * the blob through the index instead): no damage makes an absent blob look present, since that
 * needs the damaged bytes to equal the id of a chunk being archived.
 */
export const RUN_MAGIC = Buffer.from('SFRT', 'latin1');
export const RUN_VERSION = 1;
export const RUN_HEADER_BYTES = 48;
export const RECORD_BYTES = 36;
export const PACK_ENTRY_BYTES = 40;
/** Records per bucket aimed at: a lookup reads one bucket, ~600 bytes. */
const TARGET_BUCKET_RECORDS = 16;
const MIN_FANOUT_BITS = 4;
/** 2^24 buckets: 64 MiB of fanout, reached at ~270 M records (1 TiB of 4 KiB chunks). */
export const MAX_FANOUT_BITS = 24;
/** The record count is a u32: a larger table is several runs. */
export const MAX_RUN_RECORDS = 0xffff_ffff;

export interface RunHeader {
  fanoutBits: number;
  records: number;
  packs: number;
  checksum: Buffer;
}

export function fanoutBitsFor(records: number): number {
  const bits = Math.ceil(Math.log2(Math.max(1, records / TARGET_BUCKET_RECORDS)));
  return Math.min(MAX_FANOUT_BITS, Math.max(MIN_FANOUT_BITS, bits));
}

/** The bucket of the id at `ids[offset..]`: its first `bits` bits. */
export function bucketOf(ids: Uint8Array, offset: number, bits: number): number {
  const prefix = ((ids[offset]! << 24) | (ids[offset + 1]! << 16) | (ids[offset + 2]! << 8) | ids[offset + 3]!) >>> 0;
  return prefix >>> (32 - bits);
}

export function fanoutBytes(bits: number): number {
  return ((1 << bits) + 1) * 4;
}

export function recordsStart(bits: number): number {
  return RUN_HEADER_BYTES + fanoutBytes(bits);
}

export function encodeRunHeader(h: RunHeader): Buffer {
  const b = Buffer.alloc(RUN_HEADER_BYTES);
  RUN_MAGIC.copy(b, 0);
  b.writeUInt8(RUN_VERSION, 4);
  b.writeUInt8(h.fanoutBits, 5);
  b.writeUInt32LE(h.records, 8);
  b.writeUInt32LE(h.packs, 12);
  h.checksum.copy(b, 16);
  return b;
}

/** The header, or a message saying what is wrong with it. */
export function decodeRunHeader(b: Buffer): RunHeader | string {
  if (b.byteLength < RUN_HEADER_BYTES || !b.subarray(0, 4).equals(RUN_MAGIC)) return 'not a run file (bad magic)';
  if (b.readUInt8(4) !== RUN_VERSION) return `unknown run version ${b.readUInt8(4)}`;
  const fanoutBits = b.readUInt8(5);
  if (fanoutBits < MIN_FANOUT_BITS || fanoutBits > MAX_FANOUT_BITS) return `fanout bits ${fanoutBits} out of range`;
  return { fanoutBits, records: b.readUInt32LE(8), packs: b.readUInt32LE(12), checksum: Buffer.from(b.subarray(16, 48)) };
}

/** Total file size a header implies: a shorter file was cut off. */
export function runFileBytes(h: Pick<RunHeader, 'fanoutBits' | 'records' | 'packs'>): number {
  return recordsStart(h.fanoutBits) + h.records * RECORD_BYTES + h.packs * PACK_ENTRY_BYTES;
}

/** Compares the 32-byte ids at a[ao..] and b[bo..]: negative, zero or positive. */
export function compareIds(a: Uint8Array, ao: number, b: Uint8Array, bo: number): number {
  for (let i = 0; i < 32; i++) {
    const d = a[ao + i]! - b[bo + i]!;
    if (d !== 0) return d;
  }
  return 0;
}
