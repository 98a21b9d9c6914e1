/**
 * Local Redis: usually already running on 127.0.0.1:6379; otherwise the system's `redis-server`,
 * started with AOF so that a restart keeps the facts, counters and positions (losing them costs a
 * rebuild from Kafka with reports answering 503 meanwhile).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalServer } from './local-server.ts';
import { PORTS, type ServicePaths } from './paths.ts';
import { spawnDetached } from './process-control.ts';
import { probeRedis } from './readiness.ts';
import { requireRedisServer } from './tools.ts';

/**
 * The arguments `services up` starts `redis-server` with: bound to 127.0.0.1, AOF fsynced every
 * second, its files in `dir`. A crash then loses at most the last second or two of writes (Redis
 * may postpone writing the AOF while an fsync runs), a rollback the service replays from Kafka.
 * RDB save points are off: the AOF already holds everything, a snapshot would add a fork and a copy.
 */
export function redisServerArgs(options: { port: number; dir: string }): string[] {
  return ['--bind', '127.0.0.1', '--port', String(options.port), '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--dir', options.dir];
}

/** Creates the local Redis definition; nothing happens until prepare/start. */
export function createRedisServer(paths: ServicePaths): LocalServer {
  const url = `redis://127.0.0.1:${PORTS.redis}`;
  let binary = 'redis-server';

  return {
    id: 'redis',
    label: 'Redis',
    address: url,
    port: PORTS.redis,
    pidFile: join(paths.run, 'redis.pid'),
    logs: join(paths.redis.logs, 'redis.log'),
    startTimeoutMs: 20_000,
    probe: () => probeRedis(url),

    async prepare() {
      binary = await requireRedisServer();
      await mkdir(paths.redis.data, { recursive: true });
    },

    async start() {
      const pid = spawnDetached({
        command: binary,
        args: redisServerArgs({ port: PORTS.redis, dir: paths.redis.data }),
        cwd: paths.redis.root,
        env: process.env,
        logFile: join(paths.redis.logs, 'redis.log'),
      });
      // Redis rewrites its command line to "redis-server 127.0.0.1:6379".
      return { pid, marker: 'redis-server', startedAt: new Date().toISOString() };
    },
  };
}
