/**
 * Find, else create, for EC2 calls that take no client token (CreateSnapshot, CreateSnapshots,
 * CopySnapshot). The create is sent as non-idempotent (callAws retries only throttling), because
 * an attempt that timed out or got a 5xx may have created the resource; the next round first looks
 * for it by its tag, so a lost answer does not become a second snapshot.
 */
import { TransientError } from '@snapfleet/shared';

/** Rounds of look-then-create before a transient failure is handed to the job's own retries. */
const ROUNDS = 3;

export async function findOrCreate<T>(find: () => Promise<T | undefined>, create: () => Promise<T>): Promise<T> {
  for (let round = 1; ; round++) {
    const found = await find();
    if (found !== undefined) return found;
    try {
      return await create();
    } catch (err) {
      if (round >= ROUNDS || !(err instanceof TransientError)) throw err;
    }
  }
}
