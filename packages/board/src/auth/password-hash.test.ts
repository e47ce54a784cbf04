import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from './credentials.js';
import { hashPassword, verifyPasswordHash } from './password-hash.js';

const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;

describe('board password hashes', () => {
  it('checks scrypt hashes it made, with a fresh salt each time', () => {
    const a = hashPassword('correct horse battery');
    const b = hashPassword('correct horse battery');
    expect(a).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
    expect(a).not.toBe(b);
    expect(verifyPasswordHash(a, 'correct horse battery')).toBe(true);
    expect(verifyPasswordHash(a, 'correct horse batterY')).toBe(false);
  });

  it('checks bcrypt hashes, and refuses hashes of neither form or absurd cost', () => {
    const hash = bcrypt.hashSync('tr0ub4dor&3', 4);
    expect(verifyPasswordHash(hash, 'tr0ub4dor&3')).toBe(true);
    expect(verifyPasswordHash(hash, 'tr0ub4dor&4')).toBe(false);
    expect(verifyPasswordHash('md5:5f4dcc3b5aa765d61d8327deb882cf99', 'password')).toBe(false);
    expect(verifyPasswordHash('$scrypt$ln=30,r=8,p=1$c2FsdA==$aGFzaA==', 'x')).toBe(false);
  });

  it('lets a user with a hashed password in, and nobody else', () => {
    const auth = createAuthenticator({
      users: [
        { name: 'alice', passwordHash: hashPassword('alice-secret-1'), role: 'operator' },
        { name: 'vera', password: 'vera-secret-1', role: 'viewer' },
      ],
    });
    expect(auth(basic('alice', 'alice-secret-1'))).toEqual({ ok: true, principal: { name: 'alice', role: 'operator', via: 'basic' } });
    // Again: taken from the cache of checked passwords, same answer.
    expect(auth(basic('alice', 'alice-secret-1'))).toEqual({ ok: true, principal: { name: 'alice', role: 'operator', via: 'basic' } });
    expect(auth(basic('alice', 'alice-secret-2'))).toMatchObject({ ok: false, reason: 'invalid' });
    expect(auth(basic('mallory', 'alice-secret-1'))).toMatchObject({ ok: false, reason: 'invalid' });
    expect(auth(basic('vera', 'vera-secret-1'))).toMatchObject({ ok: true, principal: { name: 'vera', role: 'viewer' } });
  });
});
