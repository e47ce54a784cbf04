/**
 * Which snapshots a restore drill takes: volumes never drilled first, then volumes drawn at random
 * with weights that grow with the time since each one's last drill, then one of
 * each volume's snapshots at random, so over time every volume and every age of snapshot gets
 * restored. `drillOrder` orders the candidates by one weighted draw without replacement; the
 * caller lists snapshots for the first volumes only, until it has as many as it drills, so a
 * drill's cost follows the volumes it drills, not the repository. Pure: the caller passes the
 * randomness.
 */

export interface DrillCandidate {
  volumeId: string;
  /** ISO 8601: the volume's last drill, if any. */
  lastDrillAt?: string;
}

/**
 * Every candidate once, in the order drills should try them: the volumes never drilled first (in
 * random order), then the others drawn with weights proportional to the time since their drill.
 */
export function drillOrder(candidates: readonly DrillCandidate[], now: Date, random: () => number): string[] {
  const never = candidates.filter((c) => c.lastDrillAt === undefined).map((c) => ({ id: c.volumeId, weight: 1 }));
  const drilled = candidates
    .filter((c) => c.lastDrillAt !== undefined)
    .map((c) => ({ id: c.volumeId, weight: Math.max(1, (now.getTime() - Date.parse(c.lastDrillAt!)) / 1000) }));
  return [...weightedOrder(never, random), ...weightedOrder(drilled, random)];
}

/** One weighted draw without replacement of the whole pool. */
function weightedOrder(pool: { id: string; weight: number }[], random: () => number): string[] {
  const out: string[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((s, p) => s + p.weight, 0);
    let r = random() * total;
    let i = 0;
    while (i < pool.length - 1 && r >= pool[i]!.weight) r -= pool[i++]!.weight;
    out.push(pool.splice(i, 1)[0]!.id);
  }
  return out;
}

/** One of `snapshots` at random (uniform), or undefined when there is none. */
export function pickSnapshot<T>(snapshots: readonly T[], random: () => number): T | undefined {
  if (snapshots.length === 0) return undefined;
  return snapshots[Math.min(snapshots.length - 1, Math.floor(random() * snapshots.length))];
}
