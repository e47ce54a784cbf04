/** `snapfleet init`: creates a repository (encrypted unless --no-encryption). */
import type { Command } from 'commander';
import { initRepository, DEFAULT_CHUNK_SIZE, FORMAT_VERSION, InvalidInputError, OLDEST_FORMAT_VERSION } from '@snapfleet/shared';
import type { CliContext, RepoOptions } from '../context.js';
import { readPassword } from '../password.js';
import { repoUrl, storeFor } from '../repository-access.js';
import { parseIntFlag, parseSize } from '../units.js';
import { withRepoOptions } from './common.js';
import { keyOrigin } from './key.js';

interface InitOptions extends RepoOptions {
  encryption: boolean;
  chunkSize?: string;
  formatVersion?: string;
}

export function registerInit(program: Command, ctx: CliContext): void {
  withRepoOptions(program.command('init').description('create a repository'))
    .option('--no-encryption', 'store data unencrypted (ids stay keyed)')
    .option('--chunk-size <size>', `deduplication unit, a power of two from 4KiB to 4MiB (default ${DEFAULT_CHUNK_SIZE / 1024}KiB)`)
    .option('--format-version <n>', `repository format version, ${OLDEST_FORMAT_VERSION}-${FORMAT_VERSION}; 1 stays usable by releases before format 2 (default ${FORMAT_VERSION})`)
    .action(async (opts: InitOptions) => {
      const password = await readPassword(opts.passwordFile, ctx.env);
      if (opts.encryption && !password) throw new InvalidInputError('init needs a password: set SNAPFLEET_PASSWORD or --password-file, or pass --no-encryption', 'password');
      const chunkSize = opts.chunkSize ? parseSize(opts.chunkSize, 'chunk-size') : undefined;
      const formatVersion = opts.formatVersion ? parseIntFlag(opts.formatVersion, 'format-version', OLDEST_FORMAT_VERSION, FORMAT_VERSION) : undefined;
      const repo = await initRepository(await storeFor(opts, ctx), {
        encrypted: opts.encryption, ...(password ? { password } : {}), ...(chunkSize ? { chunkSize } : {}), ...(formatVersion ? { formatVersion } : {}),
        keyOrigin: keyOrigin(ctx),
      });
      const summary = { repository: repoUrl(opts, ctx), id: repo.config.id, encrypted: opts.encryption, chunkSize: repo.chunkSize, formatVersion: repo.config.version };
      ctx.stdout.write(opts.json ? JSON.stringify(summary) + '\n' : `created ${summary.encrypted ? 'encrypted' : 'unencrypted'} repository ${summary.id} at ${summary.repository}\n`);
    });
}
