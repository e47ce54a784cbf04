/**
 * Which snapshots a restore drill takes: `count` volumes, drawn at random with weights that grow
 * with the time since each volume's last drill (a volume never drilled outweighs any that was),
 * then one of each volume's snapshots at random, so over time every volume and every age of
 * snapshot gets restored. Pure: the caller passes the randomness.
 */

export interface DrillCandidate {
  volumeId: string;
  snapshots: readonly { id: string; time: string }[];
  /** ISO 8601: the volume's last drill, if any. */
  lastDrillAt?: string;
}

export interface DrillPick {
  volumeId: string;
  snapshotId: string;
}

/** The weight of a volume never drilled: ten years of waiting. */
const NEVER_DRILLED_SECONDS = 10 * 365 * 86_400;

export function pickDrills(candidates: readonly DrillCandidate[], count: number, now: Date, random: () => number): DrillPick[] {
  const pool = candidates
    .filter((c) => c.snapshots.length > 0)
    .map((c) => ({ c, weight: c.lastDrillAt === undefined ? NEVER_DRILLED_SECONDS : Math.max(1, (now.getTime() - Date.parse(c.lastDrillAt)) / 1000) }));
  const out: DrillPick[] = [];
  while (out.length < count && pool.length > 0) {
    const total = pool.reduce((s, p) => s + p.weight, 0);
    let r = random() * total;
    let i = 0;
    while (i < pool.length - 1 && r >= pool[i]!.weight) r -= pool[i++]!.weight;
    const [{ c }] = pool.splice(i, 1) as [(typeof pool)[number]];
    const snapshot = c.snapshots[Math.min(c.snapshots.length - 1, Math.floor(random() * c.snapshots.length))]!;
    out.push({ volumeId: c.volumeId, snapshotId: snapshot.id });
  }
  return out;
}
