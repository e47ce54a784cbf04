/**
 * `snapfleet demo init DIR`: a fleet to try on a fresh machine: a few small sample volume images
 * (deterministic: zeros, text, random and repeated MiBs, like scripts/demo.mjs), an encrypted
 * folder repository with its password file, and a fleet.yaml for them. Prints the next command.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidInputError, initRepository } from '@snapfleet/shared';
import { FolderBlobStore } from '@snapfleet/providers';
import type { CliContext } from '../context.js';
import { parseIntFlag } from '../units.js';

const MiB = 1 << 20;
const WORDS = ['snapshot ', 'volume ', 'kernel: ', 'GET /api 200 ', 'backup ', 'restore\n'];

/** A deterministic byte stream: sha256 in counter mode over a seed. */
function rng(seed: string): () => Buffer {
  let s = createHash('sha256').update(seed).digest();
  return () => (s = createHash('sha256').update(s).digest());
}

export async function writeSampleVolume(path: string, sizeMiB: number, seed: string): Promise<void> {
  const next = rng(seed);
  const fh = await open(path, 'w');
  try {
    let first: Buffer | undefined;
    for (let i = 0; i < sizeMiB; i++) {
      const buf = Buffer.alloc(MiB);
      const kind = next()[0]! % 4; // zeros, text, random, a repeat of the first MiB
      if (kind === 1) for (let p = 0; p < MiB;) p += buf.write(WORDS[next()[1]! % WORDS.length]!, p);
      if (kind === 2) for (let p = 0; p < MiB; p += 32) next().copy(buf, p);
      if (kind === 3 && first) first.copy(buf);
      first ??= buf;
      await fh.write(buf, 0, MiB, i * MiB);
    }
  } finally {
    await fh.close();
  }
}

export function demoConfig(volumes: string[]): string {
  return [
    '# A demo fleet made by `snapfleet demo init`. Reference: docs/operations.md.',
    'fleet:',
    '  prefix: snapfleet-demo',
    'repositories:',
    '  demo:',
    '    url: ./repo',
    '    passwordFile: ./password',
    'volumes:',
    ...volumes.map((v) => `  ${v}: { path: ./volumes/${v}.img, tags: [demo] }`),
    'policies:',
    '  - name: hourly',
    '    selector: { tags: [demo] }',
    '    schedules: [{ every: 1h }]',
    '    repository: demo',
    '    retention:',
    '      snapshotTier: { keepLast: 1 }',
    '      archiveTier: { keepLast: 24, keepDaily: 7 }',
    '    prune: { every: 1d }',
    '    drill:                   # restore drills: a random snapshot restored to a scratch file, every block checked, the RTO recorded',
    '      schedule: { every: 1d }',
    '      volumes: 1',
    '# board:',
    '#   listen: 127.0.0.1:3000',
    '#   auth: { token: change-me-to-a-long-random-token }',
    '',
  ].join('\n');
}

export function registerDemo(program: Command, ctx: CliContext): void {
  const demo = program.command('demo').description('sample fleets to try snapfleet');
  demo
    .command('init')
    .description('write sample volumes, a repository and a fleet.yaml into DIR')
    .argument('<dir>')
    .option('--volumes <n>', 'number of sample volumes (default 3)')
    .option('--size-mib <n>', 'size of each volume in MiB (default 64)')
    .action(async (dirArg: string, opts: { volumes?: string; sizeMib?: string }) => {
      const dir = resolve(dirArg);
      const count = opts.volumes ? parseIntFlag(opts.volumes, 'volumes', 1, 1000) : 3;
      const size = opts.sizeMib ? parseIntFlag(opts.sizeMib, 'size-mib', 1, 65536) : 64;
      const configPath = join(dir, 'fleet.yaml');
      if (existsSync(configPath)) throw new InvalidInputError(`${configPath} exists: choose an empty directory`, 'dir');
      await mkdir(join(dir, 'volumes'), { recursive: true });
      const names = Array.from({ length: count }, (_, i) => `demo-${i + 1}`);
      for (const n of names) await writeSampleVolume(join(dir, 'volumes', `${n}.img`), size, n);
      const password = randomBytes(24).toString('base64url');
      await writeFile(join(dir, 'password'), password + '\n', { mode: 0o600 });
      await initRepository(new FolderBlobStore(join(dir, 'repo')), { encrypted: true, password });
      await writeFile(configPath, demoConfig(names));
      ctx.stdout.write(
        `wrote ${count} volume(s) of ${size} MiB, an encrypted repository and ${configPath}\nnext: snapfleet run --config ${configPath} --once\n`,
      );
    });
}
