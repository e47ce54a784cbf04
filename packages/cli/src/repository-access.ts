/** Opens the store and repository a command names, with the password from the edge. */
import { openRepository, InvalidInputError, type BlobStore, type Repository } from '@snapfleet/shared';
import { hostIndexTableFor, openBlobStore } from '@snapfleet/providers';
import { storeWarning, type CliContext, type RepoOptions } from './context.js';
import { readPassword } from './password.js';

export function repoUrl(opts: RepoOptions, ctx: CliContext): string {
  const url = opts.repo ?? ctx.env.SNAPFLEET_REPOSITORY;
  if (!url) throw new InvalidInputError('no repository given: use --repo or SNAPFLEET_REPOSITORY', 'repo');
  return url;
}

/** The repository's store; an S3 one is read through the host's index cache (docs/operations.md). */
export function storeFor(opts: RepoOptions, ctx: CliContext): Promise<BlobStore> {
  return openBlobStore(repoUrl(opts, ctx), ctx.env, { onWarning: storeWarning(ctx) });
}

export async function openRepo(opts: RepoOptions, ctx: CliContext): Promise<Repository> {
  const password = await readPassword(opts.passwordFile, ctx.env);
  const store = await storeFor(opts, ctx);
  const dedupCache = hostIndexTableFor(store, ctx.env, { onWarning: storeWarning(ctx) });
  return openRepository(store, { clock: ctx.clock, ...(password === undefined ? {} : { password }), ...(dedupCache ? { dedupCache } : {}) });
}

/**
 * The repository snapshots are copied from (`copy --from`, `init --copy-id-key-from`): its
 * password from --from-password-file, else SNAPFLEET_FROM_PASSWORD, so that the two
 * repositories' passwords never mix.
 */
export async function openSourceRepo(url: string, fromPasswordFile: string | undefined, ctx: CliContext): Promise<Repository> {
  const env = { ...ctx.env, SNAPFLEET_PASSWORD: ctx.env.SNAPFLEET_FROM_PASSWORD };
  return openRepo({ repo: url, ...(fromPasswordFile ? { passwordFile: fromPasswordFile } : {}) }, { ...ctx, env });
}
