import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { constantTimeEqual, createAuthenticator } from './credentials.js';

// Spy on timingSafeEqual (passing through to the real one) to check what it is handed.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const TOKEN = 'tok-0123456789abcdef';

describe('constantTimeEqual', () => {
  it('is plain equality on its results', () => {
    expect(constantTimeEqual('secret-value', 'secret-value')).toBe(true);
    expect(constantTimeEqual('secret-value', 'secret-valuf')).toBe(false);
    expect(constantTimeEqual('secret-value', 'secret')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('', 'x')).toBe(false);
  });

  it('compares fixed-size digests with timingSafeEqual, whatever the input lengths', () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    constantTimeEqual('short', 'a much longer candidate string');
    expect(spy).toHaveBeenCalledTimes(1);
    const [a, b] = spy.mock.calls[0]! as [Buffer, Buffer];
    expect(a.length).toBe(32);
    expect(b.length).toBe(32);
  });

  it('takes about as long for a mismatch in the first byte as in the last', () => {
    // A naive === returns at the first differing byte: on 4 MiB strings that is ~1000x faster
    // for an early mismatch. The bound is loose (3x) so a busy machine cannot make it flaky.
    const size = 4 * 2 ** 20;
    const secret = 'a'.repeat(size);
    const early = 'b' + 'a'.repeat(size - 1);
    const late = 'a'.repeat(size - 1) + 'b';
    const time = (candidate: string) => {
      const samples: number[] = [];
      for (let i = 0; i < 9; i++) {
        const t0 = process.hrtime.bigint();
        constantTimeEqual(candidate, secret);
        samples.push(Number(process.hrtime.bigint() - t0));
      }
      return samples.sort((x, y) => x - y)[4]!;
    };
    time(early); // warm up
    const ratio = time(early) / time(late);
    expect(ratio).toBeGreaterThan(1 / 3);
    expect(ratio).toBeLessThan(3);
  });
});

describe('createAuthenticator', () => {
  const auth = createAuthenticator({
    token: TOKEN,
    users: [
      { name: 'vera', password: 'viewer-pass', role: 'viewer' },
      { name: 'otto', password: { reveal: () => 'operator-pass' }, role: 'operator' },
    ],
  });

  it('refuses to build an open board by default', () => {
    expect(() => createAuthenticator({})).toThrow(/anonymous/);
    expect(() => createAuthenticator({ users: [] })).toThrow(/anonymous/);
  });

  it('answers missing without credentials, unless anonymous access is configured (viewer only)', () => {
    expect(auth(undefined)).toEqual({ ok: false, reason: 'missing' });
    const anonymous = createAuthenticator({ anonymous: true });
    expect(anonymous(undefined)).toEqual({ ok: true, principal: { name: 'anonymous', role: 'viewer', via: 'anonymous' } });
    // Wrong credentials are not downgraded to anonymous: they fail.
    expect(anonymous(`Bearer ${TOKEN}`)).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('accepts the token as a bearer token or as basic auth user "token", with the operator role', () => {
    expect(auth(`Bearer ${TOKEN}`)).toEqual({ ok: true, principal: { name: 'token', role: 'operator', via: 'token' } });
    expect(auth(`bearer ${TOKEN}`)).toMatchObject({ ok: true });
    expect(auth(basic('token', TOKEN))).toMatchObject({ ok: true, principal: { role: 'operator' } });
    expect(auth(`Bearer ${TOKEN}x`)).toEqual({ ok: false, reason: 'invalid' });
    expect(auth(basic('token', 'nope'))).toEqual({ ok: false, reason: 'invalid', user: 'token' });
  });

  it('accepts basic auth users with their roles and rejects wrong passwords and unknown users', () => {
    expect(auth(basic('vera', 'viewer-pass'))).toEqual({ ok: true, principal: { name: 'vera', role: 'viewer', via: 'basic' } });
    expect(auth(basic('otto', 'operator-pass'))).toEqual({ ok: true, principal: { name: 'otto', role: 'operator', via: 'basic' } });
    expect(auth(basic('vera', 'operator-pass'))).toEqual({ ok: false, reason: 'invalid', user: 'vera' });
    expect(auth(basic('mallory', 'viewer-pass'))).toEqual({ ok: false, reason: 'invalid', user: 'mallory' });
    expect(auth(basic('otto', 'operator-pass:extra'))).toMatchObject({ ok: false });
  });

  it('calls malformed headers malformed', () => {
    expect(auth('Digest abc')).toEqual({ ok: false, reason: 'malformed' });
    expect(auth(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toEqual({ ok: false, reason: 'malformed' });
    expect(auth('Bearer')).toEqual({ ok: false, reason: 'malformed' });
  });
});
