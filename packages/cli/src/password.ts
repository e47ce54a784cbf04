/**
 * The repository password: from --password-file, else SNAPFLEET_PASSWORD (restic's
 * RESTIC_PASSWORD convention). Never echoed, logged or put in an error message.
 */
import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '@snapfleet/shared';
import type { Env } from './context.js';

export async function readPassword(passwordFile: string | undefined, env: Env): Promise<string | undefined> {
  if (passwordFile) {
    let text: string;
    try {
      text = await readFile(passwordFile, 'utf8');
    } catch (err) {
      throw new InvalidInputError(`cannot read password file ${passwordFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, 'password-file');
    }
    // Files written by `echo` end in a newline that is not part of the password.
    const password = text.replace(/\r?\n$/, '');
    if (!password) throw new InvalidInputError(`password file ${passwordFile} is empty`, 'password-file');
    return password;
  }
  return env.SNAPFLEET_PASSWORD || undefined;
}
