/**
 * Local Redis: usually already running on 127.0.0.1:6379; otherwise the system's `redis-server`,
 * started without persistence (the counters are rebuilt from Kafka anyway).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalServer } from './local-server.ts';
import { PORTS, type ServicePaths } from './paths.ts';
import { spawnDetached } from './process-control.ts';
import { probeRedis } from './readiness.ts';
import { requireRedisServer } from './tools.ts';

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
      await mkdir(paths.redis.root, { recursive: true });
    },

    async start() {
      const pid = spawnDetached({
        command: binary,
        args: ['--bind', '127.0.0.1', '--port', String(PORTS.redis), '--save', '', '--appendonly', 'no', '--dir', paths.redis.root],
        cwd: paths.redis.root,
        env: process.env,
        logFile: join(paths.redis.logs, 'redis.log'),
      });
      // Redis rewrites its command line to "redis-server 127.0.0.1:6379".
      return { pid, marker: 'redis-server', startedAt: new Date().toISOString() };
    },
  };
}
