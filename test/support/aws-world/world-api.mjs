/**
 * One entry into the fake AWS world for every transport: preload.mjs (aws-sdk-client-mock inside a
 * `snapfleet` process) and test/sim's account server (EC2 Query and EBS REST-JSON over HTTP) both
 * call `worldApi(world).call(service, api, input, region)` with the SDK-shaped input of a command,
 * and get the SDK-shaped output back or a WorldError. Each call is logged to the world's call log
 * of the calling process, so tests count calls the same way whichever transport served them.
 */
import { ebsHandlers } from './world-ebs.mjs';
import { ec2Handlers } from './world-ec2.mjs';

/** The ids and block index of a call, for tests that count calls per snapshot or volume. */
export function callDetail(input) {
  const out = {};
  for (const key of ['SnapshotId', 'FirstSnapshotId', 'SecondSnapshotId', 'VolumeId', 'BlockIndex', 'SourceSnapshotId']) {
    if (input?.[key] !== undefined) out[key[0].toLowerCase() + key.slice(1)] = input[key];
  }
  return out;
}

export function worldApi(world) {
  const handlers = { ec2: ec2Handlers(world), ebs: ebsHandlers(world) };
  return {
    /** The API names the world answers for `service` ('ec2' or 'ebs'). */
    apis(service) {
      return Object.keys(handlers[service]);
    },
    /** Runs one call; throws WorldError with the service's error name when AWS would fail it. */
    async call(service, api, input, region) {
      const handler = handlers[service]?.[api];
      if (!handler) throw new Error(`the fake AWS world has no ${service} handler for ${api}`);
      world.logCall(api, region, callDetail(input));
      return handler(input ?? {}, region);
    },
  };
}
