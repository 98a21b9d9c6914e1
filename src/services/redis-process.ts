/**
 * A private redis-server for fault tests and benches that lose Redis's data on purpose. The
 * machine's Redis (6379) is shared by everything, so it must never be emptied, killed or rolled
 * back; a fault test or a repair bench runs the service against one of these instead, on its own
 * port and in its own temporary directory, and can then lose its data for real: SIGKILL, restart
 * empty, or restart from an older RDB snapshot.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redisServerArgs } from './redis-server.ts';
import { freePort } from './ports.ts';

export interface RedisProcessOptions {
  /**
   * Persistence arguments. Default `--appendonly no --save ""`: nothing survives a kill, which is
   * what a fault test wants unless it asks otherwise (e.g. `['--appendonly', 'yes']`).
   */
  persistence?: string[];
  /** the arguments `services up` uses (AOF fsynced every second) instead of `persistence` */
  asServicesUp?: boolean;
  /** how long to wait for "Ready to accept connections" (default 15 s) */
  readyTimeoutMs?: number;
}

/** An RDB file set aside by `snapshot()`. */
export interface RedisSnapshot {
  file: string;
  takenAt: number;
}

export interface RedisProcess {
  port: number;
  /** redis://127.0.0.1:<port> */
  url: string;
  /** the temporary directory (data in `data/`, snapshots in `snapshots/`) */
  dir: string;
  /** True while the server runs. */
  running(): boolean;
  /** the server's pid while it runs */
  pid(): number | undefined;
  /** SAVE, then copies dump.rdb aside: the state to roll back to later. */
  snapshot(): Promise<RedisSnapshot>;
  /** SIGKILL (no shutdown save) and waits for the exit. */
  kill(): Promise<void>;
  /**
   * Starts again on the same port (killing first if it runs): with an empty data directory, with
   * the snapshot's dump.rdb in it (a real rollback), or `kept`: with whatever the killed run left
   * (its AOF or RDB, if persistence was on). Resolves once it answers PING, with
   * `performance.now()` of that answer.
   */
  start(options: { from: 'empty' | 'kept' | RedisSnapshot }): Promise<number>;
  /** Kills the server and removes its directory (for afterAll). */
  stop(): Promise<void>;
  /** The same, synchronously (for a process 'exit' handler). */
  stopSync(): void;
}

const DEFAULT_PERSISTENCE = ['--appendonly', 'no', '--save', ''];

/** Starts redis-server (from PATH) on a free port in a new temporary directory. */
// eslint-disable-next-line max-lines-per-function -- the steps of starting a private redis-server (directory, config, spawn, wait) with the handle it returns
export async function startRedisProcess(options: RedisProcessOptions = {}): Promise<RedisProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'access-index-redis-'));
  const data = join(dir, 'data');
  const snapshots = join(dir, 'snapshots');
  await mkdir(snapshots);
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const args = options.asServicesUp
    ? [...redisServerArgs({ port, dir: data }), '--dbfilename', 'dump.rdb', '--daemonize', 'no']
    : ['--port', String(port), '--bind', '127.0.0.1', '--dir', data, '--dbfilename', 'dump.rdb', '--daemonize', 'no', ...(options.persistence ?? DEFAULT_PERSISTENCE)];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  let count = 0;

  async function launch(extra: string[] = []): Promise<void> {
    // Later arguments win: `extra` overrides the persistence options.
    const server = spawn('redis-server', [...args, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = server;
    exited = new Promise((resolve) => server.once('exit', () => resolve()));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server on ${port} not ready in time:\n${output.slice(-2000)}`)), options.readyTimeoutMs ?? 15_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        // Printed once the dataset is loaded (an RDB restore included), so reads see it.
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      server.stdout.on('data', onData);
      server.stderr.on('data', onData);
      server.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`redis-server on ${port} exited (${code ?? signal}) before it was ready:\n${output.slice(-2000)}`));
      });
    });
  }

  const aof = args.some((arg, i) => arg === '--appendonly' && args[i + 1] === 'yes');

  async function enableAof(): Promise<void> {
    const redis = new Redis(url, { maxRetriesPerRequest: 1 });
    try {
      await redis.config('SET', 'appendonly', 'yes');
      for (;;) {
        const info = await redis.info('persistence');
        if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      redis.disconnect();
    }
  }

  /** performance.now() of the first PONG. */
  async function answers(): Promise<number> {
    const deadline = performance.now() + (options.readyTimeoutMs ?? 15_000);
    for (;;) {
      const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
      try {
        await redis.connect();
        await redis.ping();
        return performance.now();
      } catch (error) {
        if (performance.now() > deadline) throw error;
      } finally {
        redis.disconnect();
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async function kill(): Promise<void> {
    if (alive()) child!.kill('SIGKILL');
    await exited;
    child = undefined;
  }

  await mkdir(data);
  await launch();
  await answers();

  return {
    port,
    url,
    dir,
    running: alive,
    pid: () => (alive() ? child!.pid : undefined),
    async snapshot() {
      const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
      try {
        await redis.connect();
        await redis.save();
      } finally {
        redis.disconnect();
      }
      const file = join(snapshots, `dump-${++count}.rdb`);
      await copyFile(join(data, 'dump.rdb'), file);
      return { file, takenAt: Date.now() };
    },
    kill,
    async start({ from }) {
      await kill();
      if (from !== 'kept') {
        // A fresh data directory: no AOF or RDB of the killed run may leak into the new one.
        await rm(data, { recursive: true, force: true });
        await mkdir(data);
      }
      if (from === 'kept' || from === 'empty') {
        await launch();
        return answers();
      }
      await copyFile(from.file, join(data, 'dump.rdb'));
      if (!aof) {
        await launch();
        return answers();
      }
      // With AOF on, redis-server ignores dump.rdb and starts empty: load the RDB with AOF off,
      // then turn AOF on, which writes the loaded dataset as the new AOF base.
      await launch(['--appendonly', 'no']);
      await enableAof();
      return answers();
    },
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
    stopSync() {
      if (alive()) child!.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
