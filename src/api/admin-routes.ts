/**
 * Admin routes (scope access-index:admin): watch and start a rebuild.
 * GET  /v1/admin/rebuild  the rebuild's state and progress (positions of the new generation against
 *                         the live one's)
 * POST /v1/admin/rebuild  starts `access-index rebuild` as a detached process on this host; 409 while
 *                         one is running (its heartbeat is fresh)
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.ts';
import { readRebuildState, rebuildRunning } from '../rebuild/rebuild.ts';
import { generationKeys, liveGenerationKey } from '../redis/keys.ts';
import type { ApiEnv } from './context.ts';

const BIN = fileURLToPath(new URL('../../bin/access-index.js', import.meta.url));

async function positionsTotal(redis: Redis, namespace: string, generation: string): Promise<number> {
  const raw = await redis.hgetall(generationKeys({ namespace, generation }).positions);
  return Object.values(raw).reduce((a, v) => a + Number(v) + 1, 0);
}

export function registerAdminRoutes(app: OpenAPIHono<ApiEnv>, deps: { redis: Redis; namespace: string; spawnRebuild?: () => number | undefined }): void {
  const spawnRebuild =
    deps.spawnRebuild ??
    (() => {
      const log = join(tmpdir(), `access-index-rebuild-${Date.now()}.log`);
      const fd = openSync(log, 'a');
      const child = spawn(process.execPath, [BIN, 'rebuild'], { detached: true, stdio: ['ignore', fd, fd], env: process.env });
      child.unref();
      return child.pid;
    });

  app.get('/v1/admin/rebuild', async (c) => {
    const state = await readRebuildState(deps.redis, deps.namespace);
    const live = await deps.redis.get(liveGenerationKey(deps.namespace));
    const running = rebuildRunning(state);
    const progress =
      state && live && state.generation !== live
        ? { searchable: await positionsTotal(deps.redis, deps.namespace, state.generation), live_searchable: await positionsTotal(deps.redis, deps.namespace, live) }
        : null;
    return c.json({ live, running, state, progress });
  });

  app.post('/v1/admin/rebuild', async (c) => {
    if (rebuildRunning(await readRebuildState(deps.redis, deps.namespace))) throw new AppError('conflict', 'a rebuild is already running; watch it with GET /v1/admin/rebuild');
    const pid = spawnRebuild();
    return c.json({ started: true, pid: pid ?? null }, 202);
  });
}
