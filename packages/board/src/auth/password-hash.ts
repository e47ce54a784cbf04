/**
 * Board passwords as hashes, so fleet.yaml need not hold them in plain text: scrypt (node:crypto;
 * `snapfleet board --hash-password` writes `$scrypt$ln=15,r=8,p=1$<salt>$<hash>`, base64) or
 * bcrypt (`$2b$...`, from htpasswd -B and most tools; checked with bcryptjs).
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';

/** N = 2^15, r = 8: about 32 MiB and 50-100 ms per check, OWASP's minimum for scrypt. */
const LOG_N = 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const SCRYPT = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password.normalize('NFC'), salt, KEY_BYTES, { N: 2 ** LOG_N, r: R, p: P, maxmem: 256 * 1024 * 1024 });
  return `$scrypt$ln=${LOG_N},r=${R},p=${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Whether `password` matches `hash` (scrypt or bcrypt); false for a hash of neither form. */
export function verifyPasswordHash(hash: string, password: string): boolean {
  const m = SCRYPT.exec(hash);
  if (m) {
    const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
    // Bounds from the config's own limits: a hash cannot ask for gigabytes per login.
    if (logN < 10 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 16) return false;
    const expected = Buffer.from(m[5]!, 'base64');
    const got = scryptSync(password.normalize('NFC'), Buffer.from(m[4]!, 'base64'), expected.length, { N: 2 ** logN, r, p, maxmem: 1024 * 1024 * 1024 });
    return timingSafeEqual(got, expected);
  }
  if (/^\$2[aby]\$/.test(hash)) return bcrypt.compareSync(password, hash);
  return false;
}
