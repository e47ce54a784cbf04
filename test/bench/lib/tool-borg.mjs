// borg as a peer: zstd,3, repokey-blake2 encryption (authenticated like the other two).
// chunkerParams lets a variant use borg's fixed-size chunker, the closest peer to snapfleet's
// aligned fixed-block chunks.
import { join } from 'node:path';
import { firstLine } from './tools-install.mjs';

export function borgTool({ name = 'borg', chunkerParams } = {}) {
  return {
    name,
    settings: `--compression zstd,3, -e repokey-blake2${chunkerParams ? `, --chunker-params ${chunkerParams}` : ''}`,
    check: () => ({ ok: true }),
    version: () => firstLine('borg', ['--version']),
    prepare(dir, cfg) {
      return {
        repo: join(dir, 'repo'),
        env: {
          BORG_REPO: join(dir, 'repo'),
          BORG_PASSPHRASE: cfg.password,
          BORG_BASE_DIR: join(dir, 'home'), // cache, keys and security dirs stay per run
          BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
          BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'no',
        },
      };
    },
    init: (t) => ({ argv: ['borg', 'init', '-e', 'repokey-blake2'], env: t.env }),
    archive: (t, { srcPath, name: archiveName }) => ({
      argv: ['borg', 'create', '--compression', 'zstd,3', ...(chunkerParams ? ['--chunker-params', chunkerParams] : []), `::${archiveName}`, srcPath],
      env: t.env,
    }),
    // borg extracts into the current directory; the scenario passes the name of the last archive.
    restore: (t, { outDir, name: archiveName }) => ({
      argv: ['borg', 'extract', `::${archiveName}`],
      env: t.env,
      cwd: outDir,
    }),
  };
}
