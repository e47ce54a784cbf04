/**
 * Fuzz properties of the repository's JSON objects: snapshots, leases, deletion markers, the
 * config and key files. Each gets damaged bytes, random JSON, and valid objects with one field
 * replaced or removed; each must decode to a value its readers can act on or fail as corrupt data
 * naming the object (and the field, where one is wrong).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptDataError, PermanentError, WrongPasswordError } from '../errors.js';
import { chunkCount, treeHeight } from './tree-shape.js';
import { expectDecoded, expectDecodedAsync, fuzzSettings, mutationsOf } from '../testing/decoder-fuzz.js';
import { decodeMarker, encodeMarker, type DeletionMarker } from './deletion-marker.js';
import { decodeLease, encodeLease, type Lease } from './lease.js';
import { generateMasterKeys, parseKeyFile, unwrapMasterKeys, wrapMasterKeys, type KeyFile } from './master-keys.js';
import { encodeConfig, isValidChunkSize, parseConfig, type RepoConfig } from './repo-config.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot } from './snapshot.js';

const settings = fuzzSettings(process.env);

type Json = Record<string, unknown>;

/** Sets `value` at `path` in a deep copy of `obj` (or deletes the field when value is undefined). */
function withField(obj: Json, path: string[], value: unknown): Json {
  const copy = structuredClone(obj);
  let at: Json = copy;
  for (const p of path.slice(0, -1)) {
    if (typeof at[p] !== 'object' || at[p] === null) return copy;
    at = at[p] as Json;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

function fieldPaths(obj: Json, prefix: string[] = []): string[][] {
  return Object.entries(obj).flatMap(([k, v]) => {
    const here = [...prefix, k];
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? [here, ...fieldPaths(v as Json, here)] : [here];
  });
}

/** Values a damaged or hostile field may hold: any JSON, and the numbers that break arithmetic. */
const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(0, -1, 1e308, -1e308, 2 ** 53, 2 ** 31, 0.5, '', 'x'.repeat(10_000), null, [], {}, true),
);

/** Valid bytes of `obj`, damaged at the byte level or with one field replaced or removed. */
function jsonMutationsOf(obj: Json): fc.Arbitrary<Buffer> {
  const paths = fieldPaths(obj);
  const replaced = fc
    .tuple(fc.constantFrom(...paths), fc.option(hostileValue, { nil: undefined }))
    .map(([path, v]) => Buffer.from(JSON.stringify(withField(obj, path, v))));
  return fc.oneof(
    mutationsOf(Buffer.from(JSON.stringify(obj))),
    replaced,
    fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  );
}

const hex64 = (c: string) => c.repeat(64);

const snapshotArb: fc.Arbitrary<Snapshot> = fc
  .record({
    sizeBytes: fc.integer({ min: 0, max: 2 ** 45 }),
    chunkLog: fc.integer({ min: 12, max: 22 }),
    tags: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
    parent: fc.option(fc.constant(hex64('b')), { nil: undefined }),
  })
  .map(({ sizeBytes, chunkLog, tags, parent }) => ({
    version: 1,
    volumeId: 'vol-1',
    time: '2026-01-05T10:00:00.000Z',
    tags,
    hostname: 'host-a',
    sizeBytes,
    chunkSize: 2 ** chunkLog,
    tree: { root: hex64('a'), height: treeHeight(chunkCount(sizeBytes, 2 ** chunkLog)) },
    ...(parent ? { parent } : {}),
    stats: { readBytes: 0, newBlobs: 0, newBytes: 0, storedBytes: 0, holeChunks: 0, changedBlocksOnly: false },
  }));

describe('snapshot fuzz', () => {
  it('damaged snapshots decode to consistent values or fail as corrupt data naming the snapshot', () => {
    fc.assert(
      fc.property(
        snapshotArb.chain((s) => jsonMutationsOf(s as unknown as Json)),
        fc.boolean(),
        (bytes, rehash) => {
          // Rehashed, the bytes pass the id check and reach the JSON and schema checks, as they
          // would if written so; otherwise the id check refuses them.
          const id = rehash ? createHash('sha256').update(bytes).digest('hex') : hex64('c');
          const out = expectDecoded(() => decodeSnapshot(bytes, id), { errors: [CorruptDataError], names: `snapshot ${id}` });
          if (out.value) {
            expect(isValidChunkSize(out.value.chunkSize)).toBe(true);
            expect(out.value.tree.height).toBe(treeHeight(chunkCount(out.value.sizeBytes, out.value.chunkSize)));
          }
        },
      ),
      settings,
    );
  });

  it('round-trips', () => {
    fc.assert(
      fc.property(snapshotArb, (s) => {
        const { id, payload } = encodeSnapshot(s);
        expect(decodeSnapshot(payload, id)).toEqual(s);
      }),
      settings,
    );
  });

  it('names the field that is wrong', () => {
    const s = fc.sample(snapshotArb, { numRuns: 1, seed: 1 })[0]!;
    for (const [field, value] of [
      ['chunkSize', 2 ** 40],
      ['tree.height', 1_000_000],
      ['sizeBytes', -1],
      ['tree.root', 'zz'],
    ] as const) {
      const bytes = Buffer.from(JSON.stringify(withField(s as unknown as Json, field.split('.'), value)));
      const id = createHash('sha256').update(bytes).digest('hex');
      expect(() => decodeSnapshot(bytes, id)).toThrow(`snapshot ${id} is malformed at ${field}`);
    }
  });
});

const lease: Lease = {
  version: 1,
  kind: 'archive',
  hostname: 'h',
  holder: { pid: 12, pidSpace: 'boot-1' },
  created: '2026-01-05T10:00:00.000Z',
  expires: '2026-01-05T10:05:00.000Z',
};
const marker: DeletionMarker = { version: 1, created: '2026-01-05T10:00:00.000Z', packs: [hex64('d')], blockingLeases: ['locks/ab'] };

describe('lease and deletion marker fuzz', () => {
  it('damaged leases fail as corrupt data naming the lease and the field', () => {
    const key = 'locks/0123';
    fc.assert(
      fc.property(jsonMutationsOf(lease as unknown as Json), (bytes) => {
        expectDecoded(() => decodeLease(bytes, key), { errors: [CorruptDataError], names: `lease ${key}` });
      }),
      settings,
    );
    expect(decodeLease(encodeLease(lease), key)).toEqual(lease);
    expect(() => decodeLease(Buffer.from(JSON.stringify({ ...lease, expires: 7 })), key)).toThrow(`lease ${key} is malformed at expires`);
    expect(() => decodeLease(Buffer.from('{"version":1,'), key)).toThrow(`lease ${key} is not JSON`);
  });

  it('damaged deletion markers fail as corrupt data naming the marker and the field', () => {
    const key = 'prune/0123';
    fc.assert(
      fc.property(jsonMutationsOf(marker as unknown as Json), (bytes) => {
        expectDecoded(() => decodeMarker(bytes, key), { errors: [CorruptDataError], names: `deletion marker ${key}` });
      }),
      settings,
    );
    expect(decodeMarker(encodeMarker(marker), key)).toEqual(marker);
    expect(() => decodeMarker(Buffer.from(JSON.stringify({ ...marker, packs: ['x'] })), key)).toThrow(`deletion marker ${key} is malformed at packs.0`);
    expect(() => decodeMarker(Buffer.from([0xff, 0xfe]), key)).toThrow(`deletion marker ${key} is not JSON`);
  });
});

const config: RepoConfig = {
  version: 2,
  id: 'e'.repeat(32),
  encryption: 0,
  chunkSize: 4096,
  idKey: Buffer.alloc(32, 1).toString('base64'),
  objectLock: { mode: 'GOVERNANCE', days: 30 },
};

describe('repository config fuzz', () => {
  it('a damaged config fails as corrupt data (or unsupported, for a newer version) naming the config', () => {
    fc.assert(
      fc.property(jsonMutationsOf(config as unknown as Json), (bytes) => {
        const out = expectDecoded(() => parseConfig(bytes), { errors: [CorruptDataError, PermanentError], names: /repository (config|format version)/ });
        if (out.value) expect(isValidChunkSize(out.value.chunkSize)).toBe(true);
        if (out.error instanceof CorruptDataError) expect(out.error.site.object).toBe('config');
      }),
      settings,
    );
    expect(parseConfig(encodeConfig(config))).toEqual(config);
  });
});

/** The cheapest scrypt: these properties are about parsing, not key strength. */
const FAST_KDF = { n: 16, r: 1, p: 1 };

describe('key file fuzz', async () => {
  const keys = generateMasterKeys(true);
  const file: KeyFile = await wrapMasterKeys(keys, 'pw', { created: '2026-01-05T10:00:00.000Z', hostname: 'h' }, FAST_KDF);
  const key = 'keys/0123';

  it('damaged key files fail as corrupt data naming the file', () => {
    fc.assert(
      fc.property(jsonMutationsOf(file as unknown as Json), (bytes) => {
        expectDecoded(() => parseKeyFile(bytes, key), { errors: [CorruptDataError], names: `key file ${key}` });
      }),
      settings,
    );
  });

  it('without a checksum, KDF parameters that no scrypt takes or that ask for gigabytes are refused', () => {
    const { check: _check, ...unchecked } = file;
    for (const [field, value] of [
      ['n', 3],
      ['n', 0],
      ['n', 2 ** 30],
      ['r', 2 ** 20],
      ['p', 2 ** 20],
    ] as const) {
      const bytes = Buffer.from(JSON.stringify({ ...unchecked, [field]: value }));
      expect(() => parseKeyFile(bytes, key), `${field} = ${value}`).toThrow(new RegExp(`key file ${key} is damaged: (field ${field}|its KDF parameters)`));
    }
    expect(parseKeyFile(Buffer.from(JSON.stringify(unchecked)), key)).toEqual(unchecked);
  });

  it('damaged sealed keys are a wrong password or corrupt data, never opened to other keys', async () => {
    const { check: _check, ...unchecked } = file;
    const sealed = Buffer.from(file.data, 'base64');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutationsOf(sealed),
          fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b)),
        ),
        async (data) => {
          const damaged = parseKeyFile(Buffer.from(JSON.stringify({ ...unchecked, data: data.toString('base64') })), key);
          const out = await expectDecodedAsync(() => unwrapMasterKeys(damaged, 'pw'), {
            errors: [WrongPasswordError, CorruptDataError],
            names: /wrong password|key file/,
          });
          if (out.value) expect(Buffer.from(out.value.idRaw).equals(Buffer.from(keys.idRaw))).toBe(true);
        },
      ),
      fuzzSettings(process.env, 0.5),
    );
  });
});
