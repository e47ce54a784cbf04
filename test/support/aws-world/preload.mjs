/**
 * Loaded into `snapfleet` processes with NODE_OPTIONS="--import <this file's URL>" and
 * SNAPFLEET_AWS_WORLD=<world dir>: answers every EC2 and EBS call of the process from the shared
 * world directory (world-ec2.mjs, world-ebs.mjs) through aws-sdk-client-mock, and logs each call
 * to the world's per-process call log.
 *
 * aws-sdk-client-mock replaces `send` on the client class it is given, so it must be given the
 * very class the providers package uses. pnpm gives every package its own view of node_modules,
 * so the SDK and the mock library are resolved from packages/providers itself: the module
 * instances there are the ones the built CLI loads (the SDK clients are CommonJS packages, shared
 * through one require cache by `import` and `require`).
 */
import { createRequire } from 'node:module';
import process from 'node:process';
import { URL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { ebsHandlers } from './world-ebs.mjs';
import { ec2Handlers } from './world-ec2.mjs';
import { World, WorldError } from './world-files.mjs';

const PROVIDERS = new URL('../../../packages/providers/package.json', import.meta.url);

// Codec worker threads make no AWS calls; they also run NODE_OPTIONS preloads, so skip them.
if (isMainThread) install(process.env.SNAPFLEET_AWS_WORLD);

function install(dir) {
  if (!dir) throw new Error('test/support/aws-world/preload.mjs: set SNAPFLEET_AWS_WORLD to the world directory');
  const require = createRequire(PROVIDERS);
  const ec2 = require('@aws-sdk/client-ec2');
  const ebs = require('@aws-sdk/client-ebs');
  const { mockClient } = require('aws-sdk-client-mock');
  const world = new World(dir);
  route(mockClient(ec2.EC2Client), ec2, ec2Handlers(world), world, (e) => ec2Error(ec2, e));
  route(mockClient(ebs.EBSClient), ebs, ebsHandlers(world), world, (e) => ebsError(ebs, e));
}

/** Sends each `<Name>Command` to handlers[Name]; a command without a handler fails loudly. */
function route(mock, sdk, handlers, world, toSdkError) {
  mock.onAnyCommand().callsFake((input, getClient) => {
    const client = getClient();
    forget(mock);
    const name = Object.getPrototypeOf(client).constructor.name;
    return Promise.reject(new Error(`the fake AWS world has no handler for this ${name} command (input ${JSON.stringify(Object.keys(input ?? {}))})`));
  });
  for (const [api, handler] of Object.entries(handlers)) {
    const Command = sdk[`${api}Command`];
    if (!Command) throw new Error(`the SDK has no ${api}Command`);
    mock.on(Command).callsFake((input, getClient) => {
      // getClient reads the stub's last call, so it must be called before anything else runs.
      const client = getClient();
      forget(mock);
      return answer(api, input, client, handler, world, toSdkError);
    });
  }
}

/**
 * sinon keeps every call's arguments and results (512 KiB block bodies among them) for
 * assertions nobody makes here: drop them once the call has been recorded (sinon refuses a reset
 * from inside the stub).
 */
function forget(mock) {
  void Promise.resolve().then(() => mock.resetHistory());
}

async function answer(api, input, client, handler, world, toSdkError) {
  const region = await client.config.region();
  world.logCall(api, region, callDetail(input));
  try {
    return await handler(input, region);
  } catch (err) {
    throw err instanceof WorldError ? toSdkError(err) : err;
  }
}

/** The ids and block index of a call, for tests that count calls per snapshot or volume. */
function callDetail(input) {
  const out = {};
  for (const key of ['SnapshotId', 'FirstSnapshotId', 'SecondSnapshotId', 'VolumeId', 'BlockIndex', 'SourceSnapshotId']) {
    if (input?.[key] !== undefined) out[key[0].toLowerCase() + key.slice(1)] = input[key];
  }
  return out;
}

function metadata() {
  return { httpStatusCode: 400, requestId: 'fake-aws-world' };
}

/** EC2 names its errors by code (InvalidSnapshot.NotFound); the SDK raises EC2ServiceException. */
function ec2Error(ec2, e) {
  return new ec2.EC2ServiceException({ name: e.code, $fault: 'client', message: e.message, $metadata: metadata() });
}

/** The EBS SDK has a class per error, with the service's machine-readable Reason. */
function ebsError(ebs, e) {
  const Class = ebs[e.code];
  const options = { message: e.message, $metadata: metadata(), ...(e.reason ? { Reason: e.reason } : {}) };
  return typeof Class === 'function' ? new Class(options) : new ebs.EBSServiceException({ name: e.code, $fault: 'client', ...options });
}
