/**
 * `snapfleet key list | add | remove | passwd`: the repository's passwords (engine/key-files.ts).
 * The password given with --password-file or SNAPFLEET_PASSWORD opens the repository; the one to
 * add comes from --new-password-file or SNAPFLEET_NEW_PASSWORD. Neither is ever printed.
 */
import type { Command } from 'commander';
import { addKey, changePassword, listKeys, removeKey, type KeyInfo } from '@snapfleet/shared';
import { localProcessIdentity } from '@snapfleet/providers';
import type { CliContext, RepoOptions } from '../context.js';
import { readNewPassword } from '../password.js';
import { openRepo, repoUrl } from '../repository-access.js';
import { withRepoOptions } from './common.js';
import { repositoryAudit, withFleetAuditOptions, type FleetAuditOptions } from '../repository-audit.js';

interface NewPasswordOptions extends RepoOptions, FleetAuditOptions {
  newPasswordFile?: string;
}

/** Who adds a key and when, recorded in the clear in its key file (`key list`). */
export function keyOrigin(ctx: CliContext) {
  const username = ctx.env.USER ?? ctx.env.LOGNAME;
  return { created: ctx.clock.now().toISOString(), hostname: ctx.hostname, ...(username ? { username } : {}) };
}

function leaseOptions(ctx: CliContext) {
  const identity = localProcessIdentity();
  return { clock: ctx.clock, hostname: ctx.hostname, ...(identity ? { identity } : {}) };
}

function describeKeys(keys: KeyInfo[]): string {
  const rows = keys.map((k) =>
    k.damaged
      ? `! ${k.id.slice(0, 8)}  damaged: ${k.damaged}`
      : `${k.current ? '*' : ' '} ${k.id.slice(0, 8)}  ${k.created ?? '-'}  ${k.username ?? '-'}@${k.hostname ?? '-'}`,
  );
  return `${rows.join('\n')}\n${keys.length} key(s); * opened this session${keys.some((k) => k.damaged) ? '; ! damaged (`snapfleet key remove ID` removes it)' : ''}\n`;
}

const withNewPassword = (cmd: Command) => cmd.option('--new-password-file <file>', 'read the new password from a file (default: $SNAPFLEET_NEW_PASSWORD)');

export function registerKey(program: Command, ctx: CliContext): void {
  const key = program.command('key').description('manage the passwords that open a repository');

  withRepoOptions(key.command('list').description('list the key files, one per password')).action(async (opts: RepoOptions) => {
    const keys = await listKeys(await openRepo(opts, ctx));
    ctx.stdout.write(opts.json ? JSON.stringify(keys) + '\n' : describeKeys(keys));
  });

  // The audit entries name key files by id: the passwords never leave the process.
  withFleetAuditOptions(withNewPassword(withRepoOptions(key.command('add').description('add a password; the others keep working')))).action(
    async (opts: NewPasswordOptions) => {
      const password = await readNewPassword(opts.newPasswordFile, ctx.env);
      const audit = await repositoryAudit(ctx, opts, 'key-add', 'key add');
      const repo = await openRepo(opts, ctx);
      const id = await audit.run(repo, async (note) => {
        const added = await addKey(repo, password, keyOrigin(ctx));
        note({ keyId: added });
        return added;
      });
      ctx.stdout.write(opts.json ? JSON.stringify({ added: id }) + '\n' : `added key ${id.slice(0, 8)} to ${repoUrl(opts, ctx)}\n`);
    },
  );

  withFleetAuditOptions(withRepoOptions(key.command('remove').description('remove a password (not the one given to open the repository)')))
    .argument('<id>', 'the key id, or a unique prefix of it (see key list)')
    .action(async (id: string, opts: RepoOptions & FleetAuditOptions) => {
      const audit = await repositoryAudit(ctx, opts, 'key-remove', 'key remove');
      const repo = await openRepo(opts, ctx);
      const removed = await audit.run(repo, async (note) => {
        note({ keyId: id });
        const gone = await removeKey(repo, id, leaseOptions(ctx));
        note({ keyId: gone });
        return gone;
      });
      ctx.stdout.write(opts.json ? JSON.stringify({ removed }) + '\n' : `removed key ${removed.slice(0, 8)} from ${repoUrl(opts, ctx)}\n`);
    });

  withFleetAuditOptions(withNewPassword(withRepoOptions(key.command('passwd').description('change the password given to open the repository')))).action(
    async (opts: NewPasswordOptions) => {
      const password = await readNewPassword(opts.newPasswordFile, ctx.env);
      const audit = await repositoryAudit(ctx, opts, 'key-passwd', 'key passwd');
      const repo = await openRepo(opts, ctx);
      const old = repo.keyFileId;
      const id = await audit.run(repo, async (note) => {
        if (old) note({ keyId: old }); // the key it replaces: removed only if the change goes through
        const added = await changePassword(repo, password, keyOrigin(ctx), leaseOptions(ctx));
        note({ added });
        return added;
      });
      ctx.stdout.write(
        opts.json ? JSON.stringify({ added: id, removed: old }) + '\n' : `changed the password: key ${old?.slice(0, 8)} replaced by ${id.slice(0, 8)}\n`,
      );
    },
  );
}
