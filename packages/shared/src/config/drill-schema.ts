/**
 * A policy's restore drill (docs/operations.md, "Restore drills"): when it runs, how many volumes
 * each run restores, and where each restore goes: a scratch file (the default), a block device
 * given to the fleet for drills, or a scratch copy the volume provider makes and deletes (AWS: a
 * new EBS snapshot written through the EBS direct APIs, optionally a volume made from it).
 */
import { z } from 'zod';
import { interval } from './interval-schema.js';

const absolutePath = z.string({ error: 'must be an absolute path' }).refine((d) => d.startsWith('/'), { error: 'must be an absolute path' });

/** The accepted spellings of `drill.target`; `drillTarget()` gives the one meaning of each. */
export const drillTargetSchema = z.union(
  [
    z.enum(['file', 'provider']),
    z.strictObject({
      /**
       * A block device (or a regular file standing for one) restored onto in place and kept: it
       * must not be mounted, nor be one of the fleet's volumes, and must hold the whole volume.
       */
      device: absolutePath,
    }),
    z.strictObject({
      provider: z.strictObject({
        /** AWS: also create a volume of the scratch snapshot in this availability zone (name or id), then delete it. */
        volumeIn: z.string().min(1, { error: 'must be an availability zone such as "us-east-1a"' }),
      }),
    }),
  ],
  { error: 'must be "file", "provider", { device: "/dev/..." } or { provider: { volumeIn: "us-east-1a" } }' },
);

export type DrillTargetInput = z.infer<typeof drillTargetSchema>;

/** What a drill restores into, as one tagged union. */
export type DrillTarget = { kind: 'file' } | { kind: 'device'; device: string } | { kind: 'provider'; volumeIn?: string };

export function drillTarget(input: DrillTargetInput | undefined): DrillTarget {
  if (input === undefined || input === 'file') return { kind: 'file' };
  if (input === 'provider') return { kind: 'provider' };
  if ('device' in input) return { kind: 'device', device: input.device };
  return { kind: 'provider', volumeIn: input.provider.volumeIn };
}

/** The `drill` section of a policy; `schedule` is the fleet's schedule schema (passed in: no import cycle). */
export function drillSchema<S extends z.ZodType>(schedule: S) {
  return z
    .strictObject({
      schedule,
      /** Volumes drilled per run. @defaultValue 1 */
      volumes: z.number({ error: 'must be a number' }).int({ error: 'must be a whole number' }).positive({ error: 'must be at least 1' }).default(1),
      /** Where each restore goes. @defaultValue "file" (a scratch file in `scratchDir`) */
      target: drillTargetSchema.optional(),
      /** An absolute directory for the scratch files (each removed after its check). @defaultValue the OS temp directory */
      scratchDir: absolutePath.optional(),
      /**
       * How old a provider scratch copy that no drill deleted (its worker was killed) must be
       * before a later drill of any policy deletes it: longer than the longest drill.
       * @defaultValue 6h
       */
      sweepAfter: interval(60_000).optional(),
    })
    .superRefine((d, ctx) => {
      const kind = drillTarget(d.target).kind;
      if (d.scratchDir !== undefined && kind !== 'file')
        ctx.addIssue({ code: 'custom', path: ['scratchDir'], message: `a scratch directory is only used by target "file", not by a ${kind} target` });
      if (d.sweepAfter !== undefined && kind !== 'provider') ctx.addIssue({ code: 'custom', path: ['sweepAfter'], message: 'only used by target "provider"' });
    });
}
