/**
 * Loaded into `snapfleet` processes with NODE_OPTIONS="--import <this file's URL>" and
 * SNAPFLEET_AWS_WORLD=<world dir>: answers every EC2 and EBS call of the process from the shared
 * world directory (world-api.mjs: world-ec2.mjs, world-ebs.mjs) through aws-sdk-client-mock, and
 * logs each call to the world's per-process call log. test/sim's account server serves the same
 * calls over HTTP instead, for tests that need the SDK's whole stack.
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
import { worldApi } from './world-api.mjs';
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
  const api = worldApi(new World(dir));
  route(mockClient(ec2.EC2Client), ec2, 'ec2', api, (e) => ec2Error(ec2, e));
  route(mockClient(ebs.EBSClient), ebs, 'ebs', api, (e) => ebsError(ebs, e));
}

/** Sends each `<Name>Command` to the world's handler of Name; a command without one fails loudly. */
function route(mock, sdk, service, api, toSdkError) {
  mock.onAnyCommand().callsFake((input, getClient) => {
    const client = getClient();
    forget(mock);
    const name = Object.getPrototypeOf(client).constructor.name;
    return Promise.reject(new Error(`the fake AWS world has no handler for this ${name} command (input ${JSON.stringify(Object.keys(input ?? {}))})`));
  });
  for (const name of api.apis(service)) {
    const Command = sdk[`${name}Command`];
    if (!Command) throw new Error(`the SDK has no ${name}Command`);
    mock.on(Command).callsFake((input, getClient) => {
      // getClient reads the stub's last call, so it must be called before anything else runs.
      const client = getClient();
      forget(mock);
      return answer(service, name, input, client, api, toSdkError);
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

async function answer(service, name, input, client, api, toSdkError) {
  const region = await client.config.region();
  try {
    return await api.call(service, name, input, region);
  } catch (err) {
    throw err instanceof WorldError ? toSdkError(err) : err;
  }
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
