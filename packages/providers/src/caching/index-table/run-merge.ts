/**
 * Merges runs into one: a k-way merge over sequential reads of each, so its memory is a slice
 * per input whatever the runs hold. Pack ordinals are renumbered: the output's packs are the
 * inputs' packs one after another. It yields to the event loop every YIELD_RECORDS records: a
 * large merge takes minutes, and a worker process must keep renewing its job and lease locks.
 */
import type { ListedPack } from '@snapfleet/shared';
import { RECORD_BYTES, compareIds } from './run-format.js';
import type { RunReader } from './run-reader.js';
import { RunWriter } from './run-writer.js';

interface Head {
  slices: Generator<{ data: Buffer; count: number }>;
  data: Buffer;
  count: number;
  at: number;
  ordinalBase: number;
}

/** Records merged between two yields to the event loop (~0.1 s of work). */
const YIELD_RECORDS = 256 * 1024;

export async function mergeRuns(inputs: readonly RunReader[], path: string): Promise<void> {
  const packs: ListedPack[] = [];
  const heads: Head[] = [];
  let records = 0;
  for (const r of inputs) {
    const slices = r.slices();
    const first = slices.next();
    if (!first.done) heads.push({ slices, data: first.value.data, count: first.value.count, at: 0, ordinalBase: packs.length });
    packs.push(...r.packs());
    records += r.records;
  }
  const writer = new RunWriter(path, records);
  try {
    const less = (a: Head, b: Head) => compareIds(a.data, a.at * RECORD_BYTES, b.data, b.at * RECORD_BYTES) < 0;
    // A binary min-heap of the inputs by their current record.
    const heap = heads;
    const down = (i: number) => {
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) return;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    };
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
    let sinceYield = 0;
    while (heap.length > 0) {
      if (++sinceYield === YIELD_RECORDS) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
      const h = heap[0]!;
      const o = h.at * RECORD_BYTES;
      writer.add(h.data, o, h.data.readUInt32LE(o + 32) + h.ordinalBase);
      if (++h.at === h.count) {
        const next = h.slices.next();
        if (next.done) {
          heap[0] = heap[heap.length - 1]!;
          heap.pop();
        } else {
          h.data = next.value.data;
          h.count = next.value.count;
          h.at = 0;
        }
      }
      if (heap.length > 0) down(0);
    }
    writer.finish(packs);
  } catch (err) {
    writer.abort();
    throw err;
  }
}

/**
 * Copies a run without the records of the packs `keep` rejects, renumbering the packs kept in
 * their order: two sequential passes (count, then copy), so memory stays a slice. Returns the
 * records written and each old ordinal's new one (-1: dropped).
 */
export async function filterRun(input: RunReader, keep: (ordinal: number) => boolean, path: string): Promise<{ records: number; ordinals: Int32Array }> {
  const ordinals = new Int32Array(input.packCount).fill(-1);
  const packs: ListedPack[] = [];
  for (let i = 0; i < input.packCount; i++) {
    if (!keep(i)) continue;
    ordinals[i] = packs.length;
    packs.push(input.pack(i));
  }
  const newOrdinal = (data: Buffer, k: number) => {
    const o = data.readUInt32LE(k * RECORD_BYTES + 32);
    return o < ordinals.length ? ordinals[o]! : -1;
  };
  let records = 0;
  let sinceYield = 0;
  for (const { data, count } of input.slices()) {
    for (let k = 0; k < count; k++) if (newOrdinal(data, k) >= 0) records++;
    if ((sinceYield += count) >= YIELD_RECORDS) {
      sinceYield = 0;
      await yieldToEventLoop();
    }
  }
  const writer = new RunWriter(path, records);
  try {
    for (const { data, count } of input.slices()) {
      for (let k = 0; k < count; k++) {
        const o = newOrdinal(data, k);
        if (o >= 0) writer.add(data, k * RECORD_BYTES, o);
      }
      if ((sinceYield += count) >= YIELD_RECORDS) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
    writer.finish(packs);
  } catch (err) {
    writer.abort();
    throw err;
  }
  return { records, ordinals };
}

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
