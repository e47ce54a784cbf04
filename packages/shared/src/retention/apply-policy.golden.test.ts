/**
 * Golden vectors (restic internal/data/testdata/policy_keep_snapshots_N, as data files): each
 * testdata/*.json holds snapshots, a policy in its input form, `now`, and the expected keep/remove
 * lists with reasons. The expectations were worked out by hand (see each file's `note`); run with
 * SNAPFLEET_UPDATE_GOLDEN=1 to rewrite them from the code after an intended change, then review
 * the diff line by line.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applyPolicy } from './apply-policy.js';
import { parseRetentionRules } from './policy-schema.js';
import type { RetentionSnapshot } from './snapshot-order.js';

const DIR = fileURLToPath(new URL('./testdata/', import.meta.url));
const UPDATE = process.env.SNAPFLEET_UPDATE_GOLDEN === '1';

interface Expected {
  keep: { id: string; reasons: string[] }[];
  remove: string[];
}

interface Golden {
  name: string;
  note: string;
  now: string;
  policy: unknown;
  snapshots: RetentionSnapshot[];
  expected: Expected;
}

function run(g: Golden): Expected {
  const result = applyPolicy(g.snapshots, parseRetentionRules(g.policy), g.now);
  return {
    keep: result.keep.map((k) => ({ id: k.snapshot.id, reasons: k.reasons })),
    remove: result.remove.map((r) => r.snapshot.id),
  };
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('retention golden files', () => {
  it('has golden files', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
  });

  for (const file of files) {
    it(file, () => {
      const path = join(DIR, file);
      const golden = JSON.parse(readFileSync(path, 'utf8')) as Golden;
      expect(golden.note, 'every golden file explains itself').toBeTruthy();
      const actual = run(golden);
      if (UPDATE) {
        writeFileSync(path, JSON.stringify({ ...golden, expected: actual }, null, 2) + '\n');
        return;
      }
      expect(actual).toEqual(golden.expected);
    });
  }
});
