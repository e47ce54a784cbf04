/**
 * Index objects (index/<id>) map blob ids to their place in packs without reading the packs.
 * Payload: "SFIX" | u32 packCount | (packId (32) | u64 packLength | u32 headerLength | header)*
 * where header is the pack's own header payload (pack-header.ts). An archive writes one index
 * object per pack, named after the pack, right after the pack: the name is deterministic, so
 * writing it again (a retry, or a reader adopting an orphaned pack) is harmless.
 */
import { CorruptDataError } from '../errors.js';
import { decodePackHeader, encodePackHeader, type FrameEntry } from './pack-header.js';
import { ID_BYTES } from './ids.js';

const MAGIC = Buffer.from('SFIX');

export interface IndexedPack {
  packId: string;
  packLength: number;
  frames: FrameEntry[];
}

export function encodeIndexPayload(packs: readonly IndexedPack[]): Buffer {
  const parts: Buffer[] = [MAGIC, u32(packs.length)];
  for (const pack of packs) {
    const header = encodePackHeader(pack.frames);
    const fixed = Buffer.allocUnsafe(ID_BYTES + 8 + 4);
    Buffer.from(pack.packId, 'hex').copy(fixed, 0);
    fixed.writeBigUInt64LE(BigInt(pack.packLength), ID_BYTES);
    fixed.writeUInt32LE(header.length, ID_BYTES + 8);
    parts.push(fixed, header);
  }
  return Buffer.concat(parts);
}

export function decodeIndexPayload(buf: Buffer, what: string): IndexedPack[] {
  if (buf.length < 8 || !buf.subarray(0, 4).equals(MAGIC)) throw new CorruptDataError(`${what}: no SFIX magic`, { object: what });
  const count = buf.readUInt32LE(4);
  const packs: IndexedPack[] = [];
  let p = 8;
  for (let i = 0; i < count; i++) {
    if (p + ID_BYTES + 12 > buf.length) throw new CorruptDataError(`${what}: truncated`, { object: what });
    const packId = buf.subarray(p, p + ID_BYTES).toString('hex');
    const packLength = Number(buf.readBigUInt64LE(p + ID_BYTES));
    // Past 2^53 the number is no longer exact (and no store holds such an object): damage.
    if (!Number.isSafeInteger(packLength))
      throw new CorruptDataError(`${what}: pack ${packId} has an impossible length ${buf.readBigUInt64LE(p + ID_BYTES)}`, { object: what });
    const headerLength = buf.readUInt32LE(p + ID_BYTES + 8);
    p += ID_BYTES + 12;
    if (p + headerLength > buf.length) throw new CorruptDataError(`${what}: truncated`, { object: what });
    packs.push({ packId, packLength, frames: decodePackHeader(buf.subarray(p, p + headerLength), what) });
    p += headerLength;
  }
  return packs;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n);
  return b;
}
