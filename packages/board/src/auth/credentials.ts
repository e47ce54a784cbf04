/**
 * Who is asking: turns an Authorization header into a principal with a role. Secrets are compared
 * in constant time, and a wrong user name costs the same as a wrong password, so timing tells an
 * attacker neither which user names exist nor how much of a token was right.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BOARD_TOKEN_USER } from '@snapfleet/shared/config';
import type { AuthOptions, Role, SecretValue } from '../board-options.js';

/** User name that carries the token over HTTP basic auth (browsers can only prompt for basic). */
export const TOKEN_USER = BOARD_TOKEN_USER;

export interface Principal {
  name: string;
  role: Role;
  via: 'token' | 'basic' | 'anonymous';
}

export type AuthResult =
  | { ok: true; principal: Principal }
  /** `user` is the claimed basic-auth user name, for the log; never the secret. */
  | { ok: false; reason: 'missing' | 'invalid' | 'malformed'; user?: string };

/** Per-process key: the digests below exist only to make both sides the same length. */
const COMPARE_KEY = randomBytes(32);

/**
 * Equality in time independent of the contents and lengths of both strings: each side is reduced
 * to a fixed-size HMAC first, then the digests are compared with timingSafeEqual.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHmac('sha256', COMPARE_KEY).update(a, 'utf8').digest();
  const db = createHmac('sha256', COMPARE_KEY).update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

export function reveal(secret: SecretValue): string {
  return typeof secret === 'string' ? secret : secret.reveal();
}

export type Authenticator = (authorization: string | undefined) => AuthResult;

export function createAuthenticator(auth: AuthOptions): Authenticator {
  const token = auth.token === undefined ? undefined : reveal(auth.token);
  const users = (auth.users ?? []).map((u) => ({ name: u.name, password: reveal(u.password), role: u.role }));
  const anonymous = auth.anonymous === true;
  if (token === undefined && users.length === 0 && !anonymous) {
    throw new Error('board auth: configure a token, users, or anonymous: true (refusing to serve an open board by default)');
  }

  const checkToken = (candidate: string): boolean => token !== undefined && constantTimeEqual(candidate, token);

  const checkUser = (name: string, password: string): Principal | undefined => {
    // No early exit: every user is compared, so the time does not depend on which one matched.
    let found: Principal | undefined;
    for (const u of users) {
      const nameOk = constantTimeEqual(name, u.name);
      const passwordOk = constantTimeEqual(password, u.password);
      if (nameOk && passwordOk && found === undefined) found = { name: u.name, role: u.role, via: 'basic' };
    }
    return found;
  };

  return (authorization) => {
    if (authorization === undefined || authorization.trim() === '') {
      return anonymous ? { ok: true, principal: { name: 'anonymous', role: 'viewer', via: 'anonymous' } } : { ok: false, reason: 'missing' };
    }
    const match = /^(\S+)\s+(\S+)\s*$/.exec(authorization);
    if (!match) return { ok: false, reason: 'malformed' };
    const scheme = match[1]!.toLowerCase();
    const value = match[2]!;
    if (scheme === 'bearer') {
      return checkToken(value) ? { ok: true, principal: { name: TOKEN_USER, role: 'operator', via: 'token' } } : { ok: false, reason: 'invalid' };
    }
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return { ok: false, reason: 'malformed' };
      const name = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      if (name === TOKEN_USER && token !== undefined) {
        return checkToken(password) ? { ok: true, principal: { name: TOKEN_USER, role: 'operator', via: 'token' } } : { ok: false, reason: 'invalid', user: name };
      }
      const principal = checkUser(name, password);
      return principal ? { ok: true, principal } : { ok: false, reason: 'invalid', user: name };
    }
    return { ok: false, reason: 'malformed' };
  };
}
