/**
 * Who is asking: turns an Authorization header into a principal with a role. Secrets are compared
 * in constant time, and a wrong user name costs the same as a wrong password, so timing tells an
 * attacker neither which user names exist nor how much of a token was right.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BOARD_TOKEN_USER } from '@snapfleet/shared/config';
import type { AuthOptions, Role, SecretValue } from '../board-options.js';
import { verifyPasswordHash } from './password-hash.js';

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

/** How long a hashed password that matched is taken on trust. */
const VERIFIED_TTL_MS = 5 * 60_000;
const MAX_VERIFIED = 1000;

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
  const users = (auth.users ?? []).map((u): { name: string; role: Role; password?: string; hash?: string } => {
    if ((u.password === undefined) === (u.passwordHash === undefined))
      throw new Error(`board auth: user ${u.name} needs exactly one of password and passwordHash`);
    return { name: u.name, role: u.role, ...(u.password !== undefined ? { password: reveal(u.password) } : { hash: reveal(u.passwordHash!) }) };
  });
  // A hash costs tens of milliseconds to check, and Bull Board polls several times a second:
  // a name and password that passed are remembered (as an HMAC, never in plain) for a while.
  const verified = new Map<string, number>();
  const anonymous = auth.anonymous === true;
  if (token === undefined && users.length === 0 && !anonymous) {
    throw new Error('board auth: configure a token, users, or anonymous: true (refusing to serve an open board by default)');
  }

  const checkToken = (candidate: string): boolean => token !== undefined && constantTimeEqual(candidate, token);

  const checkUser = (name: string, password: string): Principal | undefined => {
    // No early exit: every user is compared, so the time does not depend on which one matched.
    let found: Principal | undefined;
    const hashed = users.filter((u) => u.hash !== undefined);
    for (const u of users) {
      if (u.password === undefined) continue;
      const nameOk = constantTimeEqual(name, u.name);
      const passwordOk = constantTimeEqual(password, u.password);
      if (nameOk && passwordOk && found === undefined) found = { name: u.name, role: u.role, via: 'basic' };
    }
    if (found || hashed.length === 0) return found;
    const key = createHmac('sha256', COMPARE_KEY).update(`${name}\u0000${password}`, 'utf8').digest('base64');
    const now = Date.now();
    const user = hashed.find((u) => constantTimeEqual(name, u.name));
    const cached = verified.get(key);
    if (user && cached !== undefined && now - cached < VERIFIED_TTL_MS) return { name: user.name, role: user.role, via: 'basic' };
    // An unknown name costs one hash check too, so timing does not tell which names exist.
    const ok = verifyPasswordHash((user ?? hashed[0]!).hash!, password) && user !== undefined;
    if (!ok) return undefined;
    if (verified.size >= MAX_VERIFIED) verified.clear();
    verified.set(key, now);
    return { name: user.name, role: user.role, via: 'basic' };
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
        return checkToken(password)
          ? { ok: true, principal: { name: TOKEN_USER, role: 'operator', via: 'token' } }
          : { ok: false, reason: 'invalid', user: name };
      }
      const principal = checkUser(name, password);
      return principal ? { ok: true, principal } : { ok: false, reason: 'invalid', user: name };
    }
    return { ok: false, reason: 'malformed' };
  };
}
