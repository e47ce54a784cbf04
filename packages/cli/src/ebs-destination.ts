/**
 * `restore --to ebs:REGION[/AZ]`: restore into a new EBS snapshot in REGION, and create a volume
 * from it in availability zone AZ when one is given. Anything not starting with `ebs:` is a path.
 */
import { InvalidInputError } from '@snapfleet/shared';

export interface EbsDestination {
  region: string;
  /** A zone name (us-east-1a, us-west-2-lax-1a) or zone id (use1-az1). */
  availabilityZone?: string;
}

/** `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`: the form fleet.yaml accepts too. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ZONE_ID = /^[a-z]{2,4}\d+-az\d+$/;

/** The EBS destination `to` names, or undefined when it is a file or device path. */
export function parseEbsDestination(to: string): EbsDestination | undefined {
  if (!to.startsWith('ebs:')) return undefined;
  const fail = (why: string) => new InvalidInputError(`--to ${to}: ${why} (expected ebs:REGION or ebs:REGION/AZ, e.g. ebs:eu-west-1/eu-west-1a)`, 'to');
  const [region = '', zone, ...rest] = to.slice('ebs:'.length).split('/');
  if (rest.length > 0) throw fail('too many "/"');
  if (!region) throw fail('the region is missing');
  if (!REGION.test(region)) throw fail(`"${region}" is not an AWS region name`);
  if (zone === undefined) return { region };
  if (!zone) throw fail('the availability zone after "/" is empty');
  // A zone name is its region plus a letter (or a local zone's suffix); a zone id names no region.
  const inRegion = zone.startsWith(region) && /^-?[a-z0-9-]*[a-z]$/.test(zone.slice(region.length));
  if (!inRegion && !ZONE_ID.test(zone)) throw fail(`"${zone}" is not an availability zone of ${region}`);
  return { region, availabilityZone: zone };
}
