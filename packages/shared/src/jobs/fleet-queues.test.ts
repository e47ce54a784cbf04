import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../config/parse-fleet-config.js';
import { fleetQueueNames, workQueueNames } from './fleet-queues.js';

function parse(text: string) {
  return parseFleetConfig('repositories:\n  main: { url: s3://bucket/x }\n' + text, 'fleet.yaml');
}

describe("the fleet's queues", () => {
  it('routes jobs by region only when asked, and lists the queues of every region', () => {
    const routed = parse('provider: { kind: aws, regions: [us-east-1, eu-west-1] }\nfleet: { routing: { byRegion: true } }\n');
    expect(fleetQueueNames(routed)).toEqual([
      'tick',
      'snapshot',
      'snapshot-us-east-1',
      'snapshot-eu-west-1',
      'archive',
      'archive-us-east-1',
      'archive-eu-west-1',
      'retention',
      'retention-us-east-1',
      'retention-eu-west-1',
      'verify',
      'alert',
    ]);
    expect(workQueueNames(routed, ['eu-west-1']).map((q) => q.name)).toEqual([
      'snapshot',
      'snapshot-eu-west-1',
      'archive',
      'archive-eu-west-1',
      'retention',
      'retention-eu-west-1',
      'verify',
    ]);
    expect(fleetQueueNames(parse('provider: { kind: aws, regions: [us-east-1] }\n'))).toEqual(['tick', 'snapshot', 'archive', 'retention', 'verify', 'alert']);
  });
});
