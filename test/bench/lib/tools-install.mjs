// Makes sure the peer tools exist: restic, borgbackup and GNU time from Debian's packages (the
// only package source reachable here besides npm). Runs `apt-get update` at most once.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import console from 'node:console';
import process from 'node:process';

const REQUIRED = [
  { bin: 'restic', pkg: 'restic' },
  { bin: 'borg', pkg: 'borgbackup' },
  { bin: '/usr/bin/time', pkg: 'time' },
  { bin: 'python3', pkg: 'python3' },
];

function onPath(bin) {
  if (bin.startsWith('/')) {
    try {
      accessSync(bin, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

function apt(args) {
  console.log(`$ apt-get ${args.join(' ')}`);
  const r = spawnSync('apt-get', args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

export function ensureTools() {
  const missing = REQUIRED.filter((t) => !onPath(t.bin));
  if (missing.length === 0) return;
  const pkgs = missing.map((t) => t.pkg);
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${missing.map((t) => t.bin).join(', ')}; install as root: apt-get install -y ${pkgs.join(' ')}`);
  }
  apt(['update']);
  apt(['install', '-y', '--no-install-recommends', ...pkgs]);
  const still = missing.filter((t) => !onPath(t.bin));
  if (still.length) throw new Error(`still missing after apt-get install: ${still.map((t) => t.bin).join(', ')}`);
}

function firstLine(file, args) {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .trim()
      .split('\n')[0];
  } catch (e) {
    return `unknown (${e.message.split('\n')[0]})`;
  }
}

function debVersion(pkg) {
  return firstLine('dpkg-query', ['-W', '-f', '${Version}', pkg]);
}

/** Versions of the harness's own tools (peers report theirs through their adapters). */
export function harnessVersions() {
  return {
    node: process.version,
    python3: firstLine('python3', ['--version']),
    'GNU time': debVersion('time'),
  };
}

export { firstLine, debVersion };
