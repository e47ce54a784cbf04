// Runs s3rver in a process of its own, started by global-setup.ts. s3rver 3.7.1 encrypts
// ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node >= 17) offers only under
// --openssl-legacy-provider: without it every listing longer than one page (1,000 keys) fails
// with HTTP 500. A child process keeps that flag away from the code under test.
// Usage: node --openssl-legacy-provider s3rver-process.mjs DIRECTORY
// Prints one JSON line {"endpoint": "http://127.0.0.1:PORT"} when ready; stops on SIGTERM or
// when its stdin closes (the parent died), so no orphan server outlives a killed test run.
import process from 'node:process';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import S3rver from 's3rver';

const FilesystemStore = createRequire(import.meta.url)('s3rver/lib/stores/filesystem.js');

const directory = process.argv[2];
if (!directory) {
  process.stderr.write('usage: s3rver-process.mjs DIRECTORY\n');
  process.exit(2);
}

// s3rver deletes an object's folders once they are empty, while a PUT into the same folder may
// be between creating it and opening its file: that write fails with ENOENT as an unhandled
// 'error' event, which would end this process and with it every later S3 test of the run (two
// workers' leases under locks/, one released as the other renews). Empty folders are left.
const unlinkOnly = async function deleteObject(bucket, key) {
  await Promise.all(['object', 'object.md5', 'metadata.json'].map((resource) => rm(this.getResourcePath(bucket, key, resource), { force: true })));
};
FilesystemStore.prototype.deleteObject = unlinkOnly;

const server = new S3rver({
  address: '127.0.0.1',
  port: 0, // the OS picks a free port, so parallel runs on one machine never collide
  silent: true,
  directory,
  vhostBuckets: false, // path-style only: virtual-host buckets would need DNS names for 127.0.0.1
});
const { address, port } = await server.run();
process.stdout.write(`${JSON.stringify({ endpoint: `http://${address}:${port}` })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.close().catch(() => undefined);
  process.exit(0);
};
// stop() cannot reject (a failed close is dropped: the process exits either way), so the signal
// and end-of-input handlers start it without awaiting.
const onStop = () => void stop();
process.on('SIGTERM', onStop);
process.on('SIGINT', onStop);
process.stdin.on('end', onStop);
process.stdin.resume();
