/**
 * Fuzz properties of the fleet configuration parser: random text, random YAML documents, a valid
 * configuration with one field replaced or removed, and the documents YAML makes hostile (deep
 * nesting, alias expansion). Each parses or fails as invalid input naming the file (and the
 * field, where one is wrong); never a YAML library error, a stack overflow or a hang.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { InvalidInputError } from '../errors.js';
import { expectDecoded, fuzzSettings } from '../testing/decoder-fuzz.js';
import { parseFleetConfig } from './parse-fleet-config.js';

const settings = fuzzSettings(process.env, 0.5);
const file = 'fleet.yaml';
const invalid = { errors: [InvalidInputError], names: `${file}: ` };

const valid = {
  fleet: { prefix: 'fleet-a', jobs: { attempts: 3, backoff: '5s' } },
  repositories: { main: { url: './repo', passwordFile: './pw' }, s3: { url: 's3://bucket/x', passwordEnv: 'S3_PASS', compressionLevel: 5 } },
  volumes: { 'web-1': { path: './web-1.img', tags: ['web', 'prod'] } },
  policies: [
    {
      name: 'nightly',
      selector: { tags: ['web'] },
      schedules: [{ cron: '0 2 * * *', timeZone: 'Europe/Berlin' }, { every: '1h' }],
      repository: 'main',
      retention: { snapshotTier: { keepLast: 3 }, archiveTier: { keepDaily: 7 } },
    },
  ],
  board: { auth: { token: '0123456789abcdef-token' } },
};

type Json = Record<string, unknown> | unknown[];

/** Every path to a value in `doc`, objects and arrays alike. */
function paths(doc: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof doc !== 'object' || doc === null) return [];
  return Object.entries(doc).flatMap(([k, v]) => {
    const here = [...prefix, Array.isArray(doc) ? Number(k) : k];
    return [here, ...paths(v, here)];
  });
}

function replaced(doc: Json, path: (string | number)[], value: unknown): Json {
  const copy = structuredClone(doc);
  let at = copy as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) at = at[p] as Record<string | number, unknown>;
  if (value === undefined) delete at[path[path.length - 1]!];
  else at[path[path.length - 1]!] = value;
  return copy;
}

const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(0, -1, 1e308, 2 ** 53, 0.5, '', '* * * * * * * *', '1x', '99999999999999999999d', 'Mars/Olympus', '[z-a]', null, [], {}, true),
);

const mutatedDocArb = fc.tuple(fc.constantFrom(...paths(valid)), fc.option(hostileValue, { nil: undefined })).map(([path, v]) => replaced(valid, path, v));

function expectParsedOrNamed(text: string): void {
  const out = expectDecoded(() => parseFleetConfig(text, file, { baseDir: '/etc/snapfleet' }), invalid);
  if (out.error) expect((out.error as InvalidInputError).field).toBeTruthy();
}

describe('fleet config fuzz', () => {
  it('random text parses or fails as invalid input naming the file', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.constantFrom('{', '- [', '&a [*a]', ': :', '\t', '%YAML 9.9\n---\n'),
        ),
        (text) => {
          expectParsedOrNamed(text);
        },
      ),
      settings,
    );
  });

  it('random documents, as YAML or JSON, parse or fail naming the file', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.boolean(), (doc, asYaml) => {
        expectParsedOrNamed(asYaml ? stringify(doc) : JSON.stringify(doc));
      }),
      settings,
    );
  });

  it('a valid configuration with one field replaced or removed parses or names the field', () => {
    expect(() => parseFleetConfig(stringify(valid), file)).not.toThrow();
    fc.assert(
      fc.property(mutatedDocArb, fc.boolean(), (doc, asYaml) => {
        expectParsedOrNamed(asYaml ? stringify(doc) : JSON.stringify(doc));
      }),
      settings,
    );
  });

  it.each([
    ['deep flow nesting', '['.repeat(50_000)],
    ['deep block nesting', Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n')],
    [
      'an alias expansion bomb',
      [
        'a: &a [x, x, x, x, x, x, x, x, x, x]',
        ...Array.from({ length: 9 }, (_, i) => `${'bcdefghij'[i]}: &${'bcdefghij'[i]} [${Array(10).fill(`*${'abcdefghi'[i]}`).join(', ')}]`),
        'fleet: *j',
      ].join('\n'),
    ],
    ['an alias cycle', 'fleet: &a { x: *a }'],
    ['many documents', '---\na: 1\n'.repeat(1000)],
  ])('%s fails as invalid input naming the file, promptly', (_name, text) => {
    expectDecoded(() => parseFleetConfig(text, file), { ...invalid, maxMs: 5_000 });
  });
});
