/**
 * A private redis-server for a bench that loses Redis's data on purpose. The machine's Redis is
 * shared by everything (never flushed, killed or rolled back): a bench that empties Redis runs the
 * service against one of these, on its own free port and in its own temporary directory, started
 * with the arguments `services up` uses (AOF fsynced every second). Emptying it the way an operator
 * meets it: SIGKILL, then a start with an empty data directory (a restart without persistence).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redisServerArgs } from '../../src/services/redis-server.ts';
import { freePort } from './load.ts';

export interface PrivateRedis {
  port: number;
  /** redis://127.0.0.1:<port> */
  url: string;
  /** the temporary directory (its data in `data/`) */
  dir: string;
  pid(): number | undefined;
  /**
   * SIGKILL, a fresh empty data directory, start again on the same port; resolves once it answers
   * PING, with `performance.now()` of that answer.
   */
  restartEmpty(): Promise<number>;
  /** Kills the server and removes its directory. */
  stop(): Promise<void>;
  /** The same, synchronously (for a process 'exit' handler). */
  stopSync(): void;
}

/** Starts redis-server (from PATH) on a free port of 127.0.0.1 in a new temporary directory. */
export async function startPrivateRedis(options: { readyTimeoutMs?: number } = {}): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'access-index-bench-redis-'));
  const data = join(dir, 'data');
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  async function launch(): Promise<void> {
    await mkdir(data, { recursive: true });
    const server = spawn('redis-server', [...redisServerArgs({ port, dir: data }), '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = server;
    exited = new Promise((resolve) => server.once('exit', () => resolve()));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server on ${port} not ready in time:\n${output.slice(-2000)}`)), options.readyTimeoutMs ?? 15_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          server.stdout.off('data', onData);
          server.stderr.off('data', onData);
          server.stdout.resume();
          server.stderr.resume();
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

  async function kill(): Promise<void> {
    if (alive()) child!.kill('SIGKILL');
    await exited;
    child = undefined;
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

  await launch();
  await answers();
  return {
    port,
    url,
    dir,
    pid: () => (alive() ? child!.pid : undefined),
    async restartEmpty() {
      await kill();
      await rm(data, { recursive: true, force: true });
      await launch();
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
