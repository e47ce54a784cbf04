import { describe, expect, it } from 'vitest';
import type { VolumeCompliance } from './assess.js';
import { decideRpoAlerts, rpoAlertKey, type RpoAlertState } from './alert-transitions.js';

const H = 3_600_000;
const t0 = new Date('2026-12-05T12:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const vol = (volumeId: string, state: VolumeCompliance['state']): VolumeCompliance => ({ policy: 'daily', volumeId, state });

/** Runs the decisions like the fleet does: keeps the states, collects what was sent. */
function simulate(steps: [number, VolumeCompliance[]][], quietMs = H) {
  const states = new Map<string, RpoAlertState>();
  const sent: string[] = [];
  for (const [ms, volumes] of steps) {
    for (const d of decideRpoAlerts(volumes, states, at(ms), quietMs)) {
      if (d.next) states.set(rpoAlertKey(d.policy, d.volumeId), d.next);
      else states.delete(rpoAlertKey(d.policy, d.volumeId));
      if (d.send) sent.push(`${ms / 60_000}m ${d.send} ${d.volumeId}`);
    }
  }
  return { sent, states };
}

describe('decideRpoAlerts', () => {
  it('alerts a breach once, then its recovery once', () => {
    const { sent } = simulate([
      [0, [vol('a', 'ok'), vol('b', 'never')]],
      [60_000, [vol('a', 'breached'), vol('b', 'never')]],
      [120_000, [vol('a', 'breached'), vol('b', 'never')]],
      [180_000, [vol('a', 'ok'), vol('b', 'ok')]],
      [240_000, [vol('a', 'ok'), vol('b', 'ok')]],
    ]);
    expect(sent).toEqual(['0m rpo-breached b', '1m rpo-breached a', '3m rpo-recovered a', '3m rpo-recovered b']);
  });

  it('keeps a flapping volume quiet for the quiet period, recovery included', () => {
    const flap: [number, VolumeCompliance[]][] = [];
    for (let m = 0; m < 150; m += 10) flap.push([m * 60_000, [vol('a', m % 20 === 0 ? 'breached' : 'ok')]]);
    const { sent } = simulate(flap);
    // Breaches at 0, 20, ..., 140 minutes; one hour of quiet after each alert that was sent.
    expect(sent).toEqual([
      '0m rpo-breached a',
      '10m rpo-recovered a',
      '60m rpo-breached a',
      '70m rpo-recovered a',
      '120m rpo-breached a',
      '130m rpo-recovered a',
    ]);
  });

  it('forgets volumes that left their policy or vanished, without alerting', () => {
    const { sent, states } = simulate([
      [0, [vol('a', 'breached'), vol('b', 'breached')]],
      [60_000, [vol('a', 'gone')]],
    ]);
    expect(sent).toEqual(['0m rpo-breached a', '0m rpo-breached b']);
    expect(states.size).toBe(0);
  });

  it('records nothing for volumes that were never breached', () => {
    expect(decideRpoAlerts([vol('a', 'ok'), vol('b', 'orphan')], new Map(), t0, H)).toEqual([]);
  });
});
