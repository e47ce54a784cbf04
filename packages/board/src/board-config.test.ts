import { inspect } from 'node:util';
import { InvalidInputError } from '@snapfleet/shared';
import { describe, expect, it } from 'vitest';
import { parseBoardConfigText, parseBoardSection, parseListen } from './board-config.js';
import { reveal } from './auth/credentials.js';

const TOKEN = 'abcdefghijklmnop-token';

describe('parseBoardSection', () => {
  it('parses listen, token and users, with defaults', () => {
    const section = parseBoardSection({ board: { auth: { token: TOKEN, users: [{ name: 'vera', password: 'viewer-pass' }] } } }, 'fleet.yaml');
    expect(section.listen).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(reveal(section.auth.token!)).toBe(TOKEN);
    expect(section.auth.users![0]!.role).toBe('viewer');
    expect(section.auth.anonymous).toBe(false);
  });

  it('keeps secrets out of logs and JSON', () => {
    const section = parseBoardSection({ board: { auth: { token: TOKEN, users: [{ name: 'o', password: 'operator-pass', role: 'operator' }] } } }, 'f');
    const printed = JSON.stringify(section) + inspect(section, { depth: 10 }) + String(section.auth.token);
    expect(printed).not.toContain(TOKEN);
    expect(printed).not.toContain('operator-pass');
    expect(printed).toContain('[redacted]');
  });

  it('refuses a board with no authentication, naming the file and field', () => {
    expect(() => parseBoardSection({}, 'fleet.yaml')).toThrow(InvalidInputError);
    expect(() => parseBoardSection({ board: { listen: ':8080' } }, 'fleet.yaml')).toThrow(/fleet\.yaml: board\.auth: .*anonymous/);
  });

  it('names the bad field', () => {
    const bad = (board: unknown) => {
      try {
        parseBoardSection({ board }, 'f.yaml');
      } catch (err) {
        return (err as InvalidInputError).field;
      }
      return 'no error';
    };
    expect(bad({ auth: { token: 'short' } })).toBe('board.auth.token');
    expect(bad({ auth: { users: [{ name: 'a', password: 'p' }] } })).toBe('board.auth.users.0.password');
    expect(bad({ auth: { users: [{ name: 'a', password: 'long-enough', role: 'admin' }] } })).toBe('board.auth.users.0.role');
    expect(bad({ auth: { users: [{ name: 'token', password: 'long-enough' }] } })).toBe('board.auth.users.0.name');
    expect(bad({ auth: { anonymous: true }, listen: 'nowhere' })).toBe('board.listen');
    expect(bad({ auth: { anonymous: true }, colour: 'red' })).toBe('board');
  });

  it('lets SNAPFLEET_BOARD_TOKEN (passed in) replace the file token, validated the same way', () => {
    const section = parseBoardSection({ board: { auth: { anonymous: true } } }, 'f', { token: TOKEN });
    expect(reveal(section.auth.token!)).toBe(TOKEN);
    expect(() => parseBoardSection({}, 'f', { token: 'short' })).toThrow(/board\.auth\.token/);
  });
});

describe('fleet.prefix', () => {
  it('is returned when the file sets it, and checked', () => {
    expect(parseBoardSection({ board: { auth: { anonymous: true } } }, 'f').prefix).toBeUndefined();
    expect(parseBoardSection({ fleet: { prefix: 'prod-eu' }, board: { auth: { anonymous: true } } }, 'f').prefix).toBe('prod-eu');
    expect(() => parseBoardSection({ fleet: { prefix: 'a:b' }, board: { auth: { anonymous: true } } }, 'f')).toThrow(/fleet\.prefix/);
  });
});

describe('parseBoardConfigText', () => {
  it('reads YAML and JSON', () => {
    const yaml = `policies: []\nboard:\n  listen: "0.0.0.0:8080"\n  auth:\n    anonymous: true\n`;
    expect(parseBoardConfigText(yaml, 'f.yaml').listen).toEqual({ host: '0.0.0.0', port: 8080 });
    const json = JSON.stringify({ board: { listen: '[::1]:9000', auth: { token: TOKEN } } });
    expect(parseBoardConfigText(json, 'f.json').listen).toEqual({ host: '::1', port: 9000 });
    expect(() => parseBoardConfigText('board: [unclosed', 'f.yaml')).toThrow(/f\.yaml: not valid YAML/);
  });
});

describe('parseListen', () => {
  it('accepts host:port forms and rejects the rest', () => {
    expect(parseListen('localhost:3000')).toEqual({ host: 'localhost', port: 3000 });
    expect(parseListen(':3000')).toEqual({ host: '0.0.0.0', port: 3000 });
    expect(parseListen('3000')).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(parseListen('host:')).toBeUndefined();
    expect(parseListen('a:b:3000')).toBeUndefined();
    expect(parseListen('host:70000')).toBeUndefined();
  });
});
