/**
 * Lease objects (locks/<id>): a running archive says "I started at T and I am alive until E"
 * and renews E while it runs. Prune waits for every archive that may have missed one of its
 * deletion markers (docs/format.md, garbage collection). Leases never block archives.
 */
import { z } from 'zod';
import { parseJsonObject } from './json-object.js';

const leaseSchema = z.object({
  version: z.literal(1),
  kind: z.enum(['archive', 'prune']),
  hostname: z.string().optional(),
  /** The holding process, where known (prune leases): lets a prune on the same machine see that it died. */
  holder: z.object({ pid: z.number().int().positive(), pidSpace: z.string().min(1) }).optional(),
  created: z.iso.datetime(),
  /** The holder renews this while it runs; past it (plus a clock-skew margin) the lease is dead. */
  expires: z.iso.datetime(),
});
export type Lease = z.infer<typeof leaseSchema>;

export function encodeLease(lease: Lease): Buffer {
  return Buffer.from(JSON.stringify(lease));
}

export function decodeLease(payload: Uint8Array, key: string): Lease {
  return parseJsonObject(payload, leaseSchema, `lease ${key}`, { object: key });
}
