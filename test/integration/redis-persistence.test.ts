/**
 * Redis durability with real redis-server processes of this file's own, on free ports in a temp
 * folder (the suite's shared Redis is never touched):
 * - started exactly as `services up` starts it (`redisServerArgs`), Redis runs with AOF and keeps
 *   what it has written to its AOF across a SIGKILL and restart;
 * - started without persistence, or refusing CONFIG as managed Redis does, the start-up check
 *   reads what it can, warns with the fix, and sets the gauge.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.ts';
import { checkRedisPersistence } from '../../src/redis/persistence-check.ts';
import { probeRedis, waitUntilReady } from '../../src/services/readiness.ts';
import { redisServerArgs } from '../../src/services/redis-server.ts';
import { requireRedisServer } from '../../src/services/tools.ts';
import { freePort } from '../../src/services/ports.ts';

const root = mkdtempSync(join(tmpdir(), 'access-index-redis-persistence-'));
const started = new Set<ChildProcess>();
const clients = new Set<Redis>();
let binary = 'redis-server';

interface StartedRedis {
  url: string;
  child: ChildProcess;
  exited: Promise<unknown>;
}

/** Starts redis-server with these arguments, its output in the temp folder; waits until it answers. */
async function startRedis(args: string[], name: string): Promise<StartedRedis> {
  const port = Number(args[args.indexOf('--port') + 1]);
  const url = `redis://127.0.0.1:${port}`;
  const log = openSync(join(root, `${name}.log`), 'a');
  const child = spawn(binary, args, { cwd: root, stdio: ['ignore', log, log] });
  closeSync(log);
  started.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitUntilReady(() => probeRedis(url), {
    what: `redis-server on ${port}`,
    timeoutMs: 20_000,
    stillRunning: () => child.exitCode === null && child.signalCode === null,
  });
  return { url, child, exited };
}

function connect(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  clients.add(redis);
  return redis;
}

/** The deps of the start-up check, with a logger whose lines the test reads. */
function checkDeps(url: string) {
  const lines: { level: number; msg: string; persistence?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const metrics = createMetrics({ defaultMetrics: false });
  const gauge = async (): Promise<Record<string, number>> => Object.fromEntries((await metrics.redisPersistence.get()).values.map((v) => [String(v.labels.mode), v.value]));
  return { deps: { config: { redisUrl: url }, clients: { redis: connect(url) }, logger, metrics }, lines, gauge };
}

/** Waits until Redis has written its AOF buffer to the file and no fsync is pending. */
async function waitForAofWritten(redis: Redis): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const info = await redis.info('persistence');
    if (/^aof_buffer_length:0\r?$/m.test(info) && /^aof_pending_bio_fsync:0\r?$/m.test(info)) return;
    if (Date.now() > deadline) throw new Error(`AOF not written after 10 s:\n${info}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const WARN = 40;
const INFO = 30;

beforeAll(async () => {
  binary = await requireRedisServer();
});

afterAll(async () => {
  for (const redis of clients) redis.disconnect();
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  rmSync(root, { recursive: true, force: true });
});

describe('a Redis started as `services up` starts it', () => {
  it('runs with AOF (everysec), and what it wrote to the AOF survives a SIGKILL and a restart', async () => {
    const dir = join(root, 'aof');
    mkdirSync(dir);
    const first = await startRedis(redisServerArgs({ port: await freePort(), dir }), 'aof-1');
    const redis = connect(first.url);
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await redis.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);

    // The shapes the projector writes: a hash of facts, a counter, and a Lua commit.
    await redis.hset('t:facts', { u1: 'agent', u2: 'supervisor' });
    await redis.incrby('t:counter', 42);
    await redis.eval("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])", 2, 't:applied', 't:commits', '17');
    // everysec is not "nothing lost": while a background fsync runs, Redis answers and postpones
    // writing its AOF buffer for up to 2 s, and a kill then loses those replies' writes (seen here:
    // killed at once, the counter and the Lua commit were gone). That window is the rollback the
    // service detects and replays; what is written before it must survive.
    await waitForAofWritten(redis);
    redis.disconnect();

    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startRedis(redisServerArgs({ port: await freePort(), dir }), 'aof-2');
    const after = connect(second.url);
    expect(await after.hgetall('t:facts')).toEqual({ u1: 'agent', u2: 'supervisor' });
    expect(await after.get('t:counter')).toBe('42');
    expect(await after.mget('t:applied', 't:commits')).toEqual(['17', '1']);

    const { deps, lines, gauge } = checkDeps(second.url);
    await checkRedisPersistence(deps);
    expect(lines.filter((l) => l.level >= WARN)).toEqual([]);
    expect(await gauge()).toEqual({ aof: 1, rdb: 0, none: 0, unknown: 0 });
  });
});

describe('the start-up check on a Redis that keeps nothing', () => {
  it('with `--save "" --appendonly no`: warns naming the URL, the cost and the fix; the gauge says none', async () => {
    const port = await freePort();
    const { url } = await startRedis(['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', root], 'none');
    const { deps, lines, gauge } = checkDeps(url);
    await checkRedisPersistence(deps);

    const warnings = lines.filter((l) => l.level === WARN);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ persistence: 'none' });
    expect(warnings[0]!.msg).toContain(`Redis at redis://127.0.0.1:${port}`);
    expect(warnings[0]!.msg).toMatch(/rebuilds the namespace from Kafka.*503/);
    expect(warnings[0]!.msg).toMatch(/`appendonly yes` and `appendfsync everysec`/);
    expect(await gauge()).toEqual({ aof: 0, rdb: 0, none: 1, unknown: 0 });
  });

  it('refusing CONFIG (as managed Redis does): says so at info, reads INFO persistence instead, still warns', async () => {
    const port = await freePort();
    const { url } = await startRedis(
      ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', root, '--rename-command', 'CONFIG', ''],
      'no-config',
    );
    const { deps, lines, gauge } = checkDeps(url);
    await checkRedisPersistence(deps);

    expect(lines.find((l) => l.level === INFO && /refused CONFIG GET/.test(l.msg))).toBeDefined();
    const warnings = lines.filter((l) => l.level === WARN);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/aof_enabled:0/);
    expect(await gauge()).toEqual({ aof: 0, rdb: 0, none: 0, unknown: 1 });
  });
});
