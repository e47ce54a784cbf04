/**
 * Runs `work` on up to `depth` items at once but hands results to `consume` strictly in input
 * order: reads and hashing overlap, while the manifest is still written in volume order.
 */
export async function orderedPipeline<T, R>(
  items: AsyncIterable<T>,
  depth: number,
  work: (item: T) => Promise<R>,
  consume: (result: R, item: T) => Promise<void>,
): Promise<void> {
  const inFlight: { item: T; result: Promise<R> }[] = [];
  try {
    for await (const item of items) {
      const result = work(item);
      // Attach a handler now; the rejection is still seen when this entry is awaited below.
      result.catch(() => {});
      inFlight.push({ item, result });
      if (inFlight.length >= depth) {
        const head = inFlight.shift()!;
        await consume(await head.result, head.item);
      }
    }
    while (inFlight.length > 0) {
      const head = inFlight.shift()!;
      await consume(await head.result, head.item);
    }
  } finally {
    // On failure let the others settle so nothing runs on after we return.
    await Promise.allSettled(inFlight.map((e) => e.result));
  }
}
