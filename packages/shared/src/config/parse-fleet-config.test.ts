import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import { parseFleetConfig } from './parse-fleet-config.js';
import { Secret } from './secret.js';
import { selectorMatches } from './volume-selector.js';

const valid = `
fleet: { prefix: fleet-a }
repositories:
  main: { url: ./repo, passwordFile: ./pw }
  s3: { url: s3://bucket/x, passwordEnv: S3_PASS, compressionLevel: 5 }
volumes:
  web-1: { path: ./web-1.img, tags: [web, prod] }
  db-1: { path: /dev/sdb, tags: [db] }
policies:
  - name: nightly
    selector: { tags: [web] }
    schedules: [{ cron: "0 2 * * *", timeZone: Europe/Berlin }, { every: 1h }]
    repository: main
    retention: { snapshotTier: { keepLast: 3 }, archiveTier: { keepDaily: 7 } }
board:
  auth: { token: "0123456789abcdef-token" }
`;

function errorOf(text: string): InvalidInputError {
  try {
    parseFleetConfig(text, 'fleet.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return err as InvalidInputError;
  }
  throw new Error('expected an error');
}

describe('parseFleetConfig', () => {
  it('parses a full config with defaults and resolves relative paths', () => {
    const c = parseFleetConfig(valid, 'fleet.yaml', { baseDir: '/etc/snapfleet' });
    expect(c.fleet.prefix).toBe('fleet-a');
    expect(c.fleet.jobs.attempts).toBe(5);
    expect(c.repositories.main!.url).toBe('/etc/snapfleet/repo');
    expect(c.repositories.main!.passwordFile).toBe('/etc/snapfleet/pw');
    expect(c.repositories.s3!.url).toBe('s3://bucket/x');
    expect(c.volumes['web-1']!.path).toBe('/etc/snapfleet/web-1.img');
    expect(c.policies[0]!.schedules).toEqual([{ cron: '0 2 * * *', timeZone: 'Europe/Berlin' }, { every: 3_600_000 }]);
    expect(c.policies[0]!.retention!.archiveTier.keepDaily).toBe(7);
    expect(c.repositories.main!.packSizeMiB).toBe(16);
    expect(c.repositories.main!.compressionLevel).toBe(1);
  });

  it('takes a pack size in MiB and names the field when it is out of range', () => {
    const sized = valid.replace('compressionLevel: 5 }', 'compressionLevel: 5, packSizeMiB: 4 }');
    expect(parseFleetConfig(sized, 'fleet.yaml').repositories.s3!.packSizeMiB).toBe(4);
    expect(errorOf(sized.replace('packSizeMiB: 4', 'packSizeMiB: 0')).field).toBe('repositories.s3.packSizeMiB');
    expect(errorOf(sized.replace('packSizeMiB: 4', 'packSizeMiB: 129')).message).toContain('repositories.s3.packSizeMiB');
  });

  it('defaults the prefix to snapfleet and accepts JSON', () => {
    const c = parseFleetConfig(JSON.stringify({ repositories: { r: { url: '/r' } } }), 'fleet.json');
    expect(c.fleet.prefix).toBe('snapfleet');
    expect(c.policies).toEqual([]);
  });

  it('names the file, the path and the field of a bad cron', () => {
    const err = errorOf(valid.replace('{ every: 1h }', '{ cron: "61 * * * *" }'));
    expect(err.message).toMatch(/^fleet\.yaml: policies\[0\]\.schedules\[1\]\.cron: invalid cron expression "61 \* \* \* \*"/);
    expect(err.field).toBe('policies[0].schedules[1].cron');
  });

  it('reports retention errors at their nested path', () => {
    const err = errorOf(valid.replace('keepDaily: 7', 'keepDaily: -2'));
    expect(err.message).toContain('fleet.yaml: policies[0].retention.archiveTier.keepDaily:');
  });

  it('takes a replicate stage into another repository, and names a wrong one', () => {
    const replicated = valid.replace('repository: main', 'repository: main\n    replicate: { repository: s3, retention: { keepLast: 5 } }');
    expect(parseFleetConfig(replicated, 'fleet.yaml').policies[0]!.replicate).toEqual({ repository: 's3', retention: { keepLast: 5 } });
    expect(errorOf(valid.replace('repository: main', 'repository: main\n    replicate: { repository: nope }')).message).toContain(
      'policies[0].replicate.repository: unknown repository nope (defined: main, s3)',
    );
    expect(errorOf(valid.replace('repository: main', 'repository: main\n    replicate: { repository: main }')).message).toContain(
      'policies[0].replicate.repository: a policy cannot replicate into its own repository',
    );
    expect(errorOf(valid.replace('repository: main', 'repository: main\n    replicate: { repository: s3, retention: { keepLast: 0 } }')).message).toContain(
      'policies[0].replicate.retention',
    );
  });

  it('rejects an unknown repository, duplicate policies, bad intervals and unknown fields', () => {
    expect(errorOf(valid.replace('repository: main', 'repository: nope')).message).toContain(
      'policies[0].repository: unknown repository nope (defined: main, s3)',
    );
    expect(errorOf(valid.replace('{ every: 1h }', '{ every: 1w }')).message).toContain('policies[0].schedules[1]');
    expect(errorOf(valid.replace('fleet: { prefix: fleet-a }', 'fleet: { prefix: "a:b" }')).message).toContain('fleet.prefix:');
    expect(errorOf(valid.replace('fleet: { prefix: fleet-a }', 'fleet: { prefx: x }')).message).toContain('fleet');
    expect(errorOf(valid.replace('passwordFile: ./pw', 'passwordFile: ./pw, passwordEnv: X')).message).toContain(
      'repositories.main.passwordEnv: give passwordFile or passwordEnv, not both',
    );
  });

  it('parses a policy rate limit and names its field when it is wrong', () => {
    const limited = valid.replace('repository: main\n', 'repository: main\n    rateLimit: { max: 2, duration: 1m }\n');
    expect(parseFleetConfig(limited, 'fleet.yaml').policies[0]!.rateLimit).toEqual({ max: 2, duration: 60_000 });
    expect(errorOf(limited.replace('max: 2', 'max: 0')).message).toContain('fleet.yaml: policies[0].rateLimit.max: must be at least 1');
    expect(errorOf(limited.replace('duration: 1m', 'duration: 1500ms')).message).toContain('policies[0].rateLimit.duration: must be whole seconds');
    expect(errorOf(limited.replace('duration: 1m', 'duration: soon')).message).toContain('policies[0].rateLimit.duration: must be an interval');
    expect(errorOf(limited.replace(', duration: 1m', '')).field).toBe('policies[0].rateLimit.duration');
  });

  it('names line and column of a YAML syntax error', () => {
    expect(errorOf('fleet: {prefix: [\n').message).toMatch(/^fleet\.yaml: line \d+, column \d+: /);
    expect(errorOf('- a\n- b\n').message).toContain('fleet.yaml: the file must hold a mapping');
  });

  it('parses the board section with the same rules as snapfleet board', () => {
    const c = parseFleetConfig(valid.replace('board:\n', 'board:\n  listen: "[::1]:9000"\n'), 'fleet.yaml');
    expect(c.board!.listen).toEqual({ host: '::1', port: 9000 });
    expect(parseFleetConfig(valid, 'fleet.yaml').board!.listen).toEqual({ host: '127.0.0.1', port: 3000 });
    const withUsers = (users: string) => valid.replace('auth: { token: "0123456789abcdef-token" }', `auth: { users: ${users} }`);
    expect(errorOf(withUsers('[{ name: token, password: long-enough }]')).message).toContain('board.auth.users[0].name: "token" is reserved');
    expect(errorOf(withUsers('[{ name: "a:b", password: long-enough }]')).field).toBe('board.auth.users[0].name');
    expect(errorOf(withUsers('[{ name: a, password: long-enough }, { name: a, password: long-enough }]')).message).toContain(
      'board.auth.users: user names must be unique',
    );
    expect(errorOf(valid.replace('board:\n', 'board:\n  listen: nowhere\n')).field).toBe('board.listen');
  });

  it('lets a board token from the environment replace the file token, validated the same way', () => {
    const c = parseFleetConfig(valid, 'fleet.yaml', { boardToken: 'from-the-secret-store-0123' });
    expect(c.board!.auth.token!.reveal()).toBe('from-the-secret-store-0123');
    // A file without a token (or without auth) gets one: the environment may be its only source.
    const noAuth = valid.replace('  auth: { token: "0123456789abcdef-token" }\n', '  listen: 127.0.0.1:3001\n');
    expect(parseFleetConfig(noAuth, 'fleet.yaml', { boardToken: 'from-the-secret-store-0123' }).board!.auth.token!.reveal()).toBe('from-the-secret-store-0123');
    let error: unknown;
    try {
      parseFleetConfig(valid, 'fleet.yaml', { boardToken: 'short' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe('board.auth.token');
    // No board section: the token does not make one.
    const boardless = valid.slice(0, valid.indexOf('board:'));
    expect(parseFleetConfig(boardless, 'fleet.yaml', { boardToken: 'from-the-secret-store-0123' }).board).toBeUndefined();
  });

  it('refuses a board without any authentication', () => {
    expect(errorOf(valid.replace('auth: { token: "0123456789abcdef-token" }', 'auth: {}')).message).toContain(
      'board.auth: set a token, users, or anonymous: true',
    );
  });

  it('keeps secrets out of logs, JSON and inspect', () => {
    const c = parseFleetConfig(valid, 'fleet.yaml');
    const token = c.board!.auth.token!;
    expect(token).toBeInstanceOf(Secret);
    expect(token.reveal()).toBe('0123456789abcdef-token');
    expect(JSON.stringify(c)).not.toContain('0123456789abcdef-token');
    expect(inspect(c, { depth: 10 })).not.toContain('0123456789abcdef-token');
    expect(`${token}`).toBe('[redacted]');
  });
});

describe('selectorMatches', () => {
  const vol = { id: 'web-1', name: 'web-frontend-1', tags: ['web', 'prod'] };
  it('requires every given criterion', () => {
    expect(selectorMatches({}, vol)).toBe(true);
    expect(selectorMatches({ tags: ['web', 'prod'] }, vol)).toBe(true);
    expect(selectorMatches({ tags: ['web', 'dev'] }, vol)).toBe(false);
    expect(selectorMatches({ ids: ['web-1'], namePattern: 'web-*' }, vol)).toBe(true);
    expect(selectorMatches({ namePattern: 'db-?' }, vol)).toBe(false);
    expect(selectorMatches({ namePattern: 'web-[a-f]*-[0-9]' }, vol)).toBe(true);
  });
});
