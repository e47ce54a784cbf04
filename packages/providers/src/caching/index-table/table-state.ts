/**
 * The host index table's state.json (the runs it is made of, their sources and pack owners) and
 * the shapes a refresh works with. A cache file: a damaged or older one is rebuilt from the bucket.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReader } from './run-reader.js';

export const STATE_FILE = 'state.json';
/** Version 1 had no pack owners: such a table is rebuilt once. */
export const STATE_VERSION = 2;
export const FILE_MODE = 0o600;

export interface RunState {
  file: string;
  records: number;
  /** The index objects that own its packs, and listed ones it was built from. */
  sources: string[];
  /** Its pack owners file (pack-owners.ts). */
  owners: string;
}

export interface TableState {
  version: number;
  runs: RunState[];
}

export interface OpenRun {
  state: RunState;
  reader: RunReader;
  /** Per pack ordinal, the index in state.sources of the object listing it, or DEAD. */
  owners: Uint32Array;
  /** Owners or sources changed since the owners file was written. */
  changed?: boolean;
}

/**
 * The table's state, or an empty one (the table is then built from the bucket): when the file is
 * missing, of an older version, or damaged (reported through `warn`).
 */
export function readTableState(dir: string, warn: (message: string) => void): TableState {
  let text: string;
  try {
    text = readFileSync(join(dir, STATE_FILE), 'utf8');
  } catch {
    return { version: STATE_VERSION, runs: [] }; // first use, or removed: built from the bucket
  }
  try {
    const state = JSON.parse(text) as TableState;
    if (typeof state.version === 'number' && state.version < STATE_VERSION) return { version: STATE_VERSION, runs: [] }; // an older table: rebuilt
    const ok =
      state.version === STATE_VERSION &&
      Array.isArray(state.runs) &&
      state.runs.every(
        (r) =>
          typeof r.file === 'string' &&
          /^run-[0-9a-f]{32}\.sfrt$/.test(r.file) &&
          Number.isSafeInteger(r.records) &&
          Array.isArray(r.sources) &&
          r.sources.every((s) => typeof s === 'string') &&
          typeof r.owners === 'string' &&
          /^own-[0-9a-f]{32}\.sfow$/.test(r.owners),
      );
    if (ok) return state;
  } catch {
    // reported below
  }
  warn(`host index table ${dir}: ${STATE_FILE} is damaged; rebuilding the table from the repository's index objects`);
  return { version: STATE_VERSION, runs: [] };
}

/** Replaces state.json whole (temp file, rename): a reader sees the old state or the new. */
export function writeTableState(dir: string, state: TableState): void {
  const temp = join(dir, `${STATE_FILE}.${randomBytes(8).toString('hex')}.tmp`);
  writeFileSync(temp, JSON.stringify(state), { mode: FILE_MODE });
  renameSync(temp, join(dir, STATE_FILE));
}

export function newRunFile(): string {
  return `run-${randomBytes(16).toString('hex')}.sfrt`;
}

export function newOwnersFile(): string {
  return `own-${randomBytes(16).toString('hex')}.sfow`;
}
