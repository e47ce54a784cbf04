/** Opens the store and repository a command names, with the password from the edge. */
import { openRepository, InvalidInputError, type BlobStore, type Repository } from '@snapfleet/shared';
import { openBlobStore } from '@snapfleet/providers';
import type { CliContext, RepoOptions } from './context.js';
import { readPassword } from './password.js';

export function repoUrl(opts: RepoOptions, ctx: CliContext): string {
  const url = opts.repo ?? ctx.env.SNAPFLEET_REPOSITORY;
  if (!url) throw new InvalidInputError('no repository given: use --repo or SNAPFLEET_REPOSITORY', 'repo');
  return url;
}

export function storeFor(opts: RepoOptions, ctx: CliContext): Promise<BlobStore> {
  return openBlobStore(repoUrl(opts, ctx), ctx.env);
}

export async function openRepo(opts: RepoOptions, ctx: CliContext): Promise<Repository> {
  const password = await readPassword(opts.passwordFile, ctx.env);
  return openRepository(await storeFor(opts, ctx), password === undefined ? {} : { password });
}
