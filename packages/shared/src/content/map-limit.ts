/**
 * Small metadata reads (index objects, snapshots, leases, pack headers) in flight at once: object
 * stores answer in ~10-50 ms each, one at a time would crawl.
 */
export const METADATA_READS_IN_FLIGHT = 16;

/**
 * Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order.
 * After a failure no new call starts, and the first error is thrown once the calls in flight
 * have settled: nothing keeps running (or writing into the caller's memory) after this returns.
 */
export async function mapLimit<T, R>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const list = [...items];
  const out: R[] = new Array(list.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < list.length && !failure) {
      const i = next++;
      try {
        out[i] = await fn(list[i]!);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, list.length) }, worker));
  if (failure) throw failure.error;
  return out;
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
