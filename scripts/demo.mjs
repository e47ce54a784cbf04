#!/usr/bin/env node
// The quickstart's main job on the embedded default: one process runs planner, worker and the
// archive engine over local image files and a folder repository, with Redis from REDIS_URL
// (default redis://127.0.0.1:6379). It makes three sample volumes under ./demo/, backs them all
// up once (`snapfleet run --once`), lists the snapshots, restores one volume and compares its
// sha256 with the source, and verifies the repository. Delete ./demo/ to start over.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import console from 'node:console';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'demo');
const cli = join(root, 'packages/cli/bin/snapfleet');
const repo = ['--repo', join(dir, 'repo'), '--password-file', join(dir, 'password')];

const sha = (p) => createHash('sha256').update(readFileSync(p)).digest('hex');
const run = (...args) => {
  console.log(`$ snapfleet ${args.join(' ')}`);
  execFileSync(cli, args, { stdio: 'inherit' });
};

if (!existsSync(join(root, 'packages/cli/dist/bundle/main.mjs'))) throw new Error('build first: pnpm build');
rmSync(dir, { recursive: true, force: true });
run('demo', 'init', dir);
run('run', '--config', join(dir, 'fleet.yaml'), '--once');
run('snapshots', ...repo);
const restored = join(dir, 'restored-demo-1.img');
run('restore', ...repo, '--snapshot', 'latest', '--volume-id', 'demo-1', '--to', restored);
const same = sha(join(dir, 'volumes/demo-1.img')) === sha(restored);
console.log(`sha256 of the restored volume ${same ? 'matches' : 'DIFFERS FROM'} the source`);
run('verify', ...repo);
if (!same) process.exit(1);
