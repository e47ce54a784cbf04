/**
 * The board's secrets that live outside fleet.yaml, read at the edge: users' passwords from the
 * environment (`passwordEnv`) or a file (`passwordFile`, read as repository password files are), and the TLS certificate
 * and key. Errors name the field, never a value.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidInputError } from '@snapfleet/shared';
import { Secret, type BoardConfig } from '@snapfleet/shared/config';
import type { Env } from './context.js';
import { readPasswordFile } from './password.js';

/** The same floor as a password written in the file. */
const MIN_PASSWORD_LENGTH = 8;

type Auth = BoardConfig['auth'];

export async function resolveBoardAuth(auth: Auth, env: Env, baseDir: string): Promise<Auth> {
  if (!auth.users) return auth;
  const users = await Promise.all(
    auth.users.map(async (u, i) => {
      const field = `board.auth.users[${i}]`;
      let text: string | undefined;
      if (u.passwordEnv !== undefined) {
        text = env[u.passwordEnv];
        if (!text) throw new InvalidInputError(`${field}.passwordEnv: environment variable ${u.passwordEnv} is not set`, `${field}.passwordEnv`);
      } else if (u.passwordFile !== undefined) {
        text = await readPasswordFile(resolve(baseDir, u.passwordFile), `${field}.passwordFile`);
      } else {
        return u;
      }
      if (text.length < MIN_PASSWORD_LENGTH) throw new InvalidInputError(`${field}: the password must be at least ${MIN_PASSWORD_LENGTH} characters`, field);
      const { passwordEnv: _env, passwordFile: _file, ...rest } = u;
      return { ...rest, password: new Secret(text) };
    }),
  );
  return { ...auth, users };
}

export async function readBoardTls(
  tls: { certFile: string; keyFile: string } | undefined,
  baseDir: string,
): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (!tls) return undefined;
  const read = async (file: string, field: string) => {
    const path = resolve(baseDir, file);
    try {
      return await readFile(path);
    } catch (err) {
      throw new InvalidInputError(`board.tls.${field}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, `board.tls.${field}`);
    }
  };
  return { cert: await read(tls.certFile, 'certFile'), key: await read(tls.keyFile, 'keyFile') };
}
