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
import { createWriteStream, readdirSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import S3rver from 's3rver';

const requireS3rver = createRequire(import.meta.url);
const FilesystemStore = requireS3rver('s3rver/lib/stores/filesystem.js');
const S3Object = requireS3rver('s3rver/lib/models/object.js');

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

// S3 answers a listing in time that follows what it returns. s3rver 3.7.1 walks the bucket from
// its root and stats every entry of every folder on the way, so listing one volume's snapshots
// costs a stat for every other volume's folder beside it and listing index/ three stats per
// object: on a night of 2,000 volumes that made the server's CPU per volume grow fourfold with
// the bucket, taken from the processes under test on the same cores. This lists the same keys,
// reading only the folders a key with the prefix can be in, with entry types from readdir
// instead of a stat each, and returns them in key order (s3rver returns folder-walk order, which
// differs from S3's where a key and a folder share a name up to '.' or '-').
const OBJECT_FILE = '._S3rver_object';
/** Every key under `prefix`, found by reading only the folders that can hold one, sorted. */
function keysWithPrefix(bucketPath, prefix) {
  const keys = [];
  const visit = (folder) => {
    let entries;
    try {
      entries = readdirSync(join(bucketPath, folder), { withFileTypes: true });
    } catch (err) {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.isDirectory()) {
        const sub = `${folder}${entry.name}/`;
        if (sub.startsWith(prefix) || prefix.startsWith(sub)) visit(sub);
      } else if (entry.name.endsWith(OBJECT_FILE)) {
        const key = folder + entry.name.slice(0, -OBJECT_FILE.length);
        if (key.startsWith(prefix)) keys.push(key);
      }
    }
  };
  // Keys with the prefix lie under its folder part: start there, not at the bucket's root.
  visit(prefix.slice(0, prefix.lastIndexOf('/') + 1));
  // String order is UTF-8 byte order (S3's) for every character outside the surrogate range,
  // and it is the order start-after is compared in below.
  return keys.sort();
}
const prefixListing = async function listObjects(bucket, options) {
  const { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity } = options;
  if (process.platform === 'win32') throw new Error('s3rver-process.mjs lists on POSIX file systems only');
  const keys = [];
  const commonPrefixes = new Set();
  let isTruncated = false;
  for (const key of keysWithPrefix(this.getBucketPath(bucket), prefix)) {
    if (key <= startAfter) continue;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (cut !== -1) {
      commonPrefixes.add(key.slice(0, cut + delimiter.length));
      continue;
    }
    if (keys.length === maxKeys) {
      isTruncated = true;
      break;
    }
    keys.push(key);
  }
  const metadata = await Promise.all(
    keys.map((key) =>
      this.getMetadata(bucket, key).catch((err) => {
        if (err.code === 'ENOENT') return undefined; // deleted since it was listed: left out, as s3rver does
        throw err;
      }),
    ),
  );
  const objects = keys.flatMap((key, i) => (metadata[i] ? [new S3Object(bucket, key, null, metadata[i])] : []));
  return { objects, commonPrefixes: [...commonPrefixes].sort(), isTruncated };
};
FilesystemStore.prototype.listObjects = prefixListing;

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
