/**
 * The container deployment, checked without a Docker engine: docker-compose validates
 * docker/compose.yaml offline, the fleet it describes has the documented services, the image is
 * built in stages and runs as a non-root user, and docker/fleet.yaml is a valid fleet config.
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFleetConfig } from '@snapfleet/shared/config';
import { makeTempDir, removeDir, REPO_ROOT } from '../support/cli.js';

const compose = join(REPO_ROOT, 'docker', 'compose.yaml');
const hasCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;

function dockerCompose(file: string, ...args: string[]) {
  return spawnSync('docker-compose', ['-f', file, ...args], { encoding: 'utf8', cwd: join(REPO_ROOT, 'docker') });
}

describe('docker deployment files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('docker-config');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('compose.yaml validates and runs Redis, S3, a planner, three workers and the board', (ctx) => {
    if (!hasCompose) ctx.skip('docker-compose is missing: apt-get install -y docker-compose (.ci/run does)');
    const check = dockerCompose(compose, 'config', '-q');
    expect(check.status, check.stderr).toBe(0);
    const services = dockerCompose(compose, 'config', '--services');
    expect(services.stdout.split('\n').filter(Boolean).sort()).toEqual(['board', 'init-repo', 'minio', 'minio-init', 'planner', 'redis', 'worker']);
    const resolved = dockerCompose(compose, 'config').stdout;
    expect(resolved).toMatch(/worker:[\s\S]*replicas: 3/);
  });

  it('the validator rejects a broken compose file (the check above can fail)', async (ctx) => {
    if (!hasCompose) ctx.skip('docker-compose is missing');
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, (await readFile(compose, 'utf8')).replace('stop_grace_period: 75s', 'stop_grace_period: [75s]'));
    const r = dockerCompose(broken, 'config', '-q');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('stop_grace_period');
  });

  it('the image is built in stages and runs as a non-root user', async () => {
    const dockerfile = await readFile(join(REPO_ROOT, 'docker', 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    const users = dockerfile.match(/^USER (\S+)/gm) ?? [];
    expect(users.at(-1)).toMatch(/^USER (?!root\b|0\b)/);
  });

  it('docker/fleet.yaml is a valid fleet configuration', async () => {
    const path = join(REPO_ROOT, 'docker', 'fleet.yaml');
    const config = parseFleetConfig(await readFile(path, 'utf8'), path, { baseDir: join(REPO_ROOT, 'docker') });
    expect(config.policies.map((p) => p.name)).toEqual(['hourly']);
    expect(Object.keys(config.volumes)).toEqual(['demo-1', 'demo-2', 'demo-3']);
  });
});
