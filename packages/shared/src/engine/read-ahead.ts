/**
 * Asks `source` for up to `ahead` items before the consumer wants them, so that the source's
 * latency (a restore's manifest nodes, which queue in the codec pool behind whole windows)
 * overlaps the consumer's work instead of adding to it. Async generators run next() calls one
 * after the other, so the source still produces its items in order, one at a time.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, ahead: number): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  try {
    for (;;) {
      while (queue.length < ahead) {
        const next = it.next();
        // Seen when it reaches the head of the queue; a consumer that stops early never awaits it.
        next.catch(() => {});
        queue.push(next);
      }
      const r = await queue.shift()!;
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await Promise.allSettled(queue);
    await it.return?.();
  }
}
