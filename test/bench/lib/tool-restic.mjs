// restic as a peer: repository format v2, compression auto, AES-256 (restic always encrypts).
import { join } from 'node:path';
import { firstLine } from './tools-install.mjs';

export function resticTool() {
  return {
    name: 'restic',
    settings: 'repo v2, --compression auto, encrypted (always)',
    check: () => ({ ok: true }),
    version: () => firstLine('restic', ['version']),
    /** dir: a fresh folder this tool may use; returns the per-run state the commands need */
    prepare(dir, cfg) {
      return {
        repo: join(dir, 'repo'),
        env: {
          RESTIC_REPOSITORY: join(dir, 'repo'),
          RESTIC_PASSWORD: cfg.password,
          RESTIC_CACHE_DIR: join(dir, 'cache'), // never share ~/.cache/restic between runs
        },
      };
    },
    init: (t) => ({ argv: ['restic', 'init', '--repository-version', '2'], env: t.env }),
    // A fixed --host keeps parent-snapshot detection stable (the parent is found by host + paths).
    archive: (t, { srcPath }) => ({
      argv: ['restic', 'backup', '--compression', 'auto', '--host', 'bench', srcPath],
      env: t.env,
    }),
    // `snapshot`: an id, or the newest of host bench (restic reads --host only for "latest").
    restore: (t, { outDir, snapshot = 'latest' }) => ({
      argv: ['restic', 'restore', snapshot, '--host', 'bench', '--target', outDir],
      env: t.env,
    }),
    /** The newest snapshot of host bench as JSON (`[{id, time, ...}]`): the id a later restore names. */
    latest: (t) => ({ argv: ['restic', 'snapshots', '--json', '--host', 'bench', 'latest'], env: t.env }),
  };
}
