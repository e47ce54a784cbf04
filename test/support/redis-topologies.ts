/**
 * Private Redis topologies for tests, on free loopback ports, in a temp folder, never the shared
 * server on 6379: a Sentinel group (a primary, replicas, three sentinels) whose primary a test
 * can SIGKILL, and a Cluster of three primaries (cluster-enabled servers joined with
 * `redis-cli --cluster create`). Every process is started and ended here, by its own pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { freePort } from './fleet-redis.js';
import { waitFor } from './fleet.js';

/** Whether redis-server and redis-cli are installed (tests skip, saying so, when not). */
export function redisServerMissing(): string | undefined {
  for (const bin of ['redis-server', 'redis-cli']) {
    if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).status !== 0) return `${bin} is not installed`;
  }
  return undefined;
}

interface ServerProcess {
  port: number;
  child: ChildProcess;
  /** Where the process logs: read into a failed test's report (describe()). */
  log: string;
}

async function startServer(dir: string, name: string, args: string[], port?: number): Promise<ServerProcess> {
  const p = port ?? (await freePort());
  const home = join(dir, name);
  await mkdir(home, { recursive: true });
  const log = join(home, 'redis.log');
  const child = spawn(
    'redis-server',
    ['--port', String(p), '--bind', '127.0.0.1', '--dir', home, '--save', '', '--appendonly', 'no', '--logfile', log, ...args],
    { stdio: 'ignore' },
  );
  await waitFor(`${name} on ${p}`, () => ping(p), 10_000, 100);
  return { port: p, child, log };
}

/** The last `lines` lines of a log, or why it could not be read. */
async function tail(path: string, lines: number): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(unreadable: ${(err as Error).message})`;
  }
}

async function ping(port: number): Promise<boolean> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on('error', () => {}); // refused while the server starts: retried by the caller
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

async function stopAll(procs: ServerProcess[]): Promise<void> {
  await Promise.all(
    procs.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGKILL');
      await exited;
    }),
  );
}

export class SentinelGroup {
  readonly masterName = 'sf-test';
  private constructor(
    readonly primary: ServerProcess,
    readonly replicas: ServerProcess[],
    readonly sentinels: ServerProcess[],
  ) {}

  /** A primary, `replicas` replicas and three sentinels (quorum 2) that fail over after 3 s. */
  static async start(dir: string, replicas = 2): Promise<SentinelGroup> {
    const primary = await startServer(dir, 'primary', []);
    const reps: ServerProcess[] = [];
    for (let i = 0; i < replicas; i++) reps.push(await startServer(dir, `replica-${i}`, ['--replicaof', '127.0.0.1', String(primary.port)]));
    const sentinels: ServerProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${i}.conf`);
      const log = join(dir, `sentinel-${i}.log`);
      // A sentinel rewrites its config file: each gets its own. Short timeouts keep a test's
      // failover to a few seconds (production uses tens of seconds). Down-after stays well above
      // the sentinels' 1 s ping period: at 1 s a loaded machine had the replica just promoted
      // marked down within a second, and a second failover took back the writes it had accepted.
      await writeFile(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `logfile ${log}`,
          `sentinel monitor sf-test 127.0.0.1 ${primary.port} 2`,
          'sentinel down-after-milliseconds sf-test 3000',
          'sentinel failover-timeout sf-test 5000',
          'sentinel parallel-syncs sf-test 1',
          '',
        ].join('\n'),
      );
      const child = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
      await waitFor(`sentinel on ${port}`, () => ping(port), 10_000, 100);
      sentinels.push({ port, child, log });
    }
    const group = new SentinelGroup(primary, reps, sentinels);
    await waitFor('replicas in sync', async () => (await group.syncedReplicas()) === replicas, 20_000, 200);
    // Sentinels learn of each other and of the replicas through the primary's hello channel.
    await waitFor('sentinels to see each other', async () => (await group.sentinelView()).otherSentinels >= 2, 20_000, 200);
    return group;
  }

  /** `redis+sentinel://` nodes as fleet.redis takes them. */
  get sentinelNodes(): string[] {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`);
  }

  /** The port the sentinels now name as primary. */
  async primaryPort(): Promise<number> {
    const r = new Redis({ port: this.sentinels[0]!.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    try {
      const addr = (await r.call('SENTINEL', 'get-master-addr-by-name', this.masterName)) as [string, string];
      return Number(addr[1]);
    } finally {
      r.disconnect();
    }
  }

  /** SIGKILL to the current primary (no shutdown, no save): the sentinels must promote a replica. */
  async killPrimary(): Promise<number> {
    const port = await this.primaryPort();
    const victim = [this.primary, ...this.replicas].find((p) => p.port === port)!;
    const exited = new Promise((res) => victim.child.once('exit', res));
    victim.child.kill('SIGKILL');
    await exited;
    return port;
  }

  async stop(): Promise<void> {
    await stopAll([...this.sentinels, this.primary, ...this.replicas]);
  }

  /**
   * For a failed test's report: each server's role as it answers now (or that it is down) and the
   * tail of every sentinel's log, which records each step of a failover (+sdown, +odown,
   * +switch-master, -failover-abort-*) with its time.
   */
  async describe(): Promise<string> {
    const lines: string[] = [];
    for (const [name, p] of [['primary', this.primary] as const, ...this.replicas.map((r, i) => [`replica-${i}`, r] as const)]) {
      const r = new Redis({ port: p.port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      r.on('error', () => {});
      try {
        await r.connect();
        const role = (await r.call('ROLE')) as unknown[];
        lines.push(`${name} :${p.port}: ${JSON.stringify(role.slice(0, 3))}`);
      } catch (err) {
        lines.push(`${name} :${p.port}: down (${(err as Error).message})`);
      } finally {
        r.disconnect();
      }
    }
    for (const [i, s] of this.sentinels.entries()) lines.push(`sentinel-${i} :${s.port} log:\n${await tail(s.log, 40)}`);
    return lines.join('\n');
  }

  private async syncedReplicas(): Promise<number> {
    const r = new Redis({ port: this.primary.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    try {
      const info = await r.info('replication');
      return (info.match(/^slave\d+:.*state=online/gm) ?? []).length;
    } finally {
      r.disconnect();
    }
  }

  private async sentinelView(): Promise<{ otherSentinels: number }> {
    const r = new Redis({ port: this.sentinels[0]!.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    try {
      const master = (await r.call('SENTINEL', 'master', this.masterName)) as string[];
      const at = master.indexOf('num-other-sentinels');
      return { otherSentinels: Number(master[at + 1]) };
    } finally {
      r.disconnect();
    }
  }
}

export class RedisClusterGroup {
  private constructor(readonly nodes: ServerProcess[]) {}

  /** Three cluster-enabled primaries (no replicas), slots spread by `redis-cli --cluster create`. */
  static async start(dir: string): Promise<RedisClusterGroup> {
    const nodes: ServerProcess[] = [];
    for (let i = 0; i < 3; i++)
      nodes.push(await startServer(dir, `cluster-${i}`, ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000']));
    const group = new RedisClusterGroup(nodes);
    const create = spawnSync('redis-cli', ['--cluster', 'create', ...group.startupNodes, '--cluster-replicas', '0', '--cluster-yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (create.status !== 0) {
      await group.stop();
      throw new Error(`redis-cli --cluster create failed: ${create.stderr || create.stdout}`);
    }
    await waitFor('cluster state ok', () => group.stateOk(), 20_000, 200);
    return group;
  }

  get startupNodes(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`);
  }

  /** A client of the whole cluster (the caller disconnects it). */
  client(): Cluster {
    return new Cluster(
      this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
      { redisOptions: { maxRetriesPerRequest: 2 } },
    );
  }

  async stop(): Promise<void> {
    await stopAll(this.nodes);
  }

  private async stateOk(): Promise<boolean> {
    for (const n of this.nodes) {
      const r = new Redis({ port: n.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      try {
        if (!/cluster_state:ok/.test((await r.call('CLUSTER', 'INFO')) as string)) return false;
      } finally {
        r.disconnect();
      }
    }
    return true;
  }
}
