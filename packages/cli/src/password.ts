/**
 * The repository password: from --password-file, else SNAPFLEET_PASSWORD (restic's
 * RESTIC_PASSWORD convention). Never echoed, logged or put in an error message.
 */
import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '@snapfleet/shared';
import type { Env } from './context.js';

export async function readPassword(passwordFile: string | undefined, env: Env): Promise<string | undefined> {
  if (passwordFile) return readPasswordFile(passwordFile, 'password-file');
  return env.SNAPFLEET_PASSWORD || undefined;
}

/** A password to add (`key add`, `key passwd`): from --new-password-file, else SNAPFLEET_NEW_PASSWORD. */
export async function readNewPassword(newPasswordFile: string | undefined, env: Env): Promise<string> {
  const password = newPasswordFile ? await readPasswordFile(newPasswordFile, 'new-password-file') : env.SNAPFLEET_NEW_PASSWORD;
  if (!password) throw new InvalidInputError('no new password given: use --new-password-file or SNAPFLEET_NEW_PASSWORD', 'new-password-file');
  return password;
}

/** A password file's content, less the newline `echo` ends it with; `field` names the flag or key that gave the path. */
export async function readPasswordFile(path: string, field: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InvalidInputError(`cannot read password file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, field);
  }
  // Files written by `echo` end in a newline that is not part of the password.
  const password = text.replace(/\r?\n$/, '');
  if (!password) throw new InvalidInputError(`password file ${path} is empty`, field);
  return password;
}
