/** `drill.target` in fleet.yaml: the spellings it accepts, their meaning, and errors that name the field. */
import { describe, expect, it } from 'vitest';
import { drillTarget } from './drill-schema.js';
import { parseFleetConfig } from './parse-fleet-config.js';

const config = (drill: string) => `
repositories: { main: { url: /srv/repo } }
volumes: { db: { path: /srv/db.img } }
policies:
  - name: nightly
    schedules: [{ every: 1h }]
    repository: main
    drill: ${drill}
`;

const parsedDrill = (drill: string) => parseFleetConfig(config(drill), 'fleet.yaml').policies[0]!.drill!;

describe('drill.target', () => {
  it('is a scratch file by default, in scratchDir', () => {
    const d = parsedDrill('{ schedule: { every: 1d }, scratchDir: /var/tmp/drills }');
    expect(drillTarget(d.target)).toEqual({ kind: 'file' });
    expect(d.scratchDir).toBe('/var/tmp/drills');
  });

  it('takes "file", "provider", a device and a provider volume zone', () => {
    expect(drillTarget(parsedDrill('{ schedule: { every: 1d }, target: file }').target)).toEqual({ kind: 'file' });
    expect(drillTarget(parsedDrill('{ schedule: { every: 1d }, target: provider, sweepAfter: 12h }').target)).toEqual({ kind: 'provider' });
    expect(parsedDrill('{ schedule: { every: 1d }, target: provider, sweepAfter: 12h }').sweepAfter).toBe(12 * 3_600_000);
    expect(drillTarget(parsedDrill('{ schedule: { every: 1d }, target: { device: /dev/sdx } }').target)).toEqual({ kind: 'device', device: '/dev/sdx' });
    expect(drillTarget(parsedDrill('{ schedule: { every: 1d }, target: { provider: { volumeIn: us-east-1a } } }').target)).toEqual({
      kind: 'provider',
      volumeIn: 'us-east-1a',
    });
  });

  it('refuses other spellings, a relative device and settings the target does not use, naming the field', () => {
    const error = (drill: string) => {
      try {
        parseFleetConfig(config(drill), 'fleet.yaml');
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('parsed');
    };
    expect(error('{ schedule: { every: 1d }, target: volume }')).toMatch(/policies\[0\]\.drill\.target.*must be "file", "provider", \{ device/s);
    expect(error('{ schedule: { every: 1d }, target: { device: sdx } }')).toMatch(/policies\[0\]\.drill\.target/);
    expect(error('{ schedule: { every: 1d }, target: { device: /dev/sdx }, scratchDir: /tmp }')).toMatch(
      /policies\[0\]\.drill\.scratchDir.*only used by target "file"/s,
    );
    expect(error('{ schedule: { every: 1d }, sweepAfter: 1h }')).toMatch(/policies\[0\]\.drill\.sweepAfter.*only used by target "provider"/s);
  });
});
