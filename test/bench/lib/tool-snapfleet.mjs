// snapfleet itself, through its launcher (packages/cli/bin/snapfleet over dist/bundle/main.mjs, built by `turbo run build`).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

function gitRev(repoRoot) {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    return `${rev}${dirty ? '+dirty' : ''}`;
  } catch {
    return 'no commit';
  }
}

/**
 * @param {object} cfg
 * @param {{name?: string, settings?: string, env?: Record<string, string>}} [variant] another
 *   configuration of the same CLI, measured as a tool of its own (e.g. `snapfleet-direct`)
 */
export function snapfleetTool(cfg, variant = {}) {
  const cli = cfg.cliPath;
  return {
    name: variant.name ?? 'snapfleet',
    settings: variant.settings ?? 'encrypted (SNAPFLEET_PASSWORD), CLI defaults',
    check: () =>
      existsSync(cli) && existsSync(join(cfg.repoRoot, 'packages/cli/dist/bundle/main.mjs'))
        ? { ok: true }
        : { ok: false, reason: `${relative(cfg.repoRoot, cli)} does not exist (CLI not written/built yet)` },
    version() {
      let v = '?';
      try {
        v = JSON.parse(readFileSync(join(cfg.repoRoot, 'packages/cli/package.json'), 'utf8')).version;
      } catch {
        /* keep '?' */
      }
      return `snapfleet ${v} (git ${gitRev(cfg.repoRoot)})`;
    },
    prepare: (dir) => ({ repo: join(dir, 'repo'), env: { SNAPFLEET_PASSWORD: cfg.password, ...variant.env } }),
    init: (t) => ({ argv: [cli, 'init', '--repo', t.repo], env: t.env }),
    archive: (t, { srcPath }) => ({
      argv: [cli, 'archive', '--repo', t.repo, '--volume-id', 'bench', srcPath, '--json'],
      env: t.env,
    }),
    restore: (t, { outDir }) => ({
      argv: [cli, 'restore', '--repo', t.repo, '--snapshot', 'latest', '--volume-id', 'bench', '--to', join(outDir, 'disk.img')],
      env: t.env,
    }),
  };
}
