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

export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
