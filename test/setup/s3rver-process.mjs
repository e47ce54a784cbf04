// Runs s3rver in a process of its own, started by global-setup.ts. s3rver 3.7.1 encrypts
// ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node >= 17) offers only under
// --openssl-legacy-provider: without it every listing longer than one page (1,000 keys) fails
// with HTTP 500. A child process keeps that flag away from the code under test.
// Usage: node --openssl-legacy-provider s3rver-process.mjs DIRECTORY
// Prints one JSON line {"endpoint": "http://127.0.0.1:PORT"} when ready; stops on SIGTERM or
// when its stdin closes (the parent died), so no orphan server outlives a killed test run.
import process from 'node:process';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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

// s3rver streams a PUT's body straight into the object's file, so a client killed mid-upload
// leaves a truncated object that lists and reads as if whole. S3 stores an object only once its
// whole body has arrived; the tests kill writers at random points and must see S3's behaviour,
// not this artefact. The body goes to a file of its own (whose name lists as no key) and is
// renamed into place only when the request ended complete; an aborted body is removed.
let partials = 0;
const atomicPut = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(dirname(objectPath), { recursive: true });
  const partial = `${objectPath}.partial-${process.pid}-${++partials}`;
  const source = Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content;
  const md5 = createHash('md5');
  let size = 0;
  try {
    await pipeline(
      source,
      async function* measure(chunks) {
        for await (const chunk of chunks) {
          md5.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(partial),
    );
    // An http.IncomingMessage whose connection closed before its last byte ends without error
    // on some paths; `complete` says whether the whole body arrived.
    if (source.complete === false) throw new Error(`PUT ${object.key}: the request body ended before its end`);
    await rename(partial, objectPath);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  const digest = md5.digest('hex');
  await this.putMetadata(object.bucket, object.key, object.metadata, digest);
  return { size, md5: digest };
};
FilesystemStore.prototype.putObject = atomicPut;

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
