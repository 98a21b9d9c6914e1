/**
 * Does a server really answer? One probe per kind, and a wait loop around a probe.
 * "Up" means usable by the product: Kafka's group coordinator answers, OpenSearch is at least
 * yellow, Redis answers INFO.
 */
import { Kafka, logLevel } from 'kafkajs';
import { Redis } from 'ioredis';
import { describePersistence, readRedisPersistence } from '../redis/persistence.ts';
import { ServiceError } from './service-error.ts';
import { sleep } from './process-control.ts';

/** The outcome of one probe. */
export type Probe =
  | { ok: true; version?: string; detail: string }
  /** `wrongKind`: it answers, but it is another kind of server: waiting will not help */
  | { ok: false; reason: string; wrongKind?: boolean };

const READINESS_GROUP = 'access-index-readiness';

/** Kafka answers metadata and its group coordinator is available (the offsets topic exists). */
export async function probeKafka(brokers: string[]): Promise<Probe> {
  const kafka = new Kafka({
    clientId: 'access-index-services',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 1, initialRetryTime: 200 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    // Needs the group coordinator: fails with "coordinator not available" until the offsets topic
    // is there, which is what makes consumer groups hang right after a start.
    await admin.describeGroups([READINESS_GROUP]);
    return { ok: true, detail: `cluster id ${cluster.clusterId}, ${cluster.brokers.length} broker(s), group coordinator ready` };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

interface RootInfo {
  version?: { number?: string; distribution?: string };
}

/** OpenSearch answers GET / as OpenSearch and its cluster is yellow or green. */
export async function probeOpenSearch(url: string): Promise<Probe> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    const root = (await response.json().catch(() => ({}))) as RootInfo;
    if (root.version?.distribution !== 'opensearch') {
      const status = response.status;
      // 503 while starting is normal; anything else without OpenSearch's answer is another server.
      return { ok: false, reason: `${url} answers HTTP ${status}, but not as OpenSearch`, wrongKind: status !== 503 };
    }
    const health = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=5s`, {
      signal: AbortSignal.timeout(8000),
    });
    const body = (await health.json()) as { status?: string; timed_out?: boolean };
    if (!health.ok || body.timed_out) return { ok: false, reason: `cluster status ${body.status ?? health.status}` };
    const modules = await listModules(url);
    const analysis = modules.includes('analysis-common') ? 'analysis-common loaded' : 'no analysis-common';
    return { ok: true, version: root.version.number, detail: `cluster ${body.status}, ${analysis}` };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

async function listModules(url: string): Promise<string[]> {
  const response = await fetch(`${url}/_nodes/_local/plugins`, { signal: AbortSignal.timeout(3000) });
  const body = (await response.json()) as { nodes?: Record<string, { modules?: { name: string }[] }> };
  return Object.values(body.nodes ?? {}).flatMap((node) => (node.modules ?? []).map((m) => m.name));
}

/** Redis answers INFO server; the detail names its mode and persistence ("standalone, aof everysec"). */
export async function probeRedis(url: string): Promise<Probe> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1];
    const mode = /redis_mode:(\S+)/.exec(info)?.[1] ?? 'standalone';
    const persistence = describePersistence(await readRedisPersistence(redis));
    return { ok: true, ...(version ? { version } : {}), detail: `${mode}, ${persistence}` };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  } finally {
    redis.disconnect();
  }
}

/** How long to wait, and how to tell early that waiting is pointless. */
export interface WaitOptions {
  what: string;
  timeoutMs: number;
  /** false when the process we started has died: stop waiting at once */
  stillRunning?: () => boolean;
  /** appended to the failure message, e.g. where the log is and its last lines */
  hint?: () => string;
}

/** Repeats the probe until it succeeds; throws a ServiceError with the last reason otherwise. */
export async function waitUntilReady(probe: () => Promise<Probe>, options: WaitOptions): Promise<Probe & { ok: true }> {
  const deadline = Date.now() + options.timeoutMs;
  let last: Probe = { ok: false, reason: 'not probed' };
  for (;;) {
    last = await probe();
    if (last.ok) return last;
    if (last.wrongKind) throw new ServiceError(`${last.reason}${hintOf(options)}`);
    if (options.stillRunning && !options.stillRunning()) {
      throw new ServiceError(`${options.what} exited during start.${hintOf(options)}`);
    }
    if (Date.now() >= deadline) {
      const seconds = Math.round(options.timeoutMs / 1000);
      throw new ServiceError(`${options.what} not ready after ${seconds} s: ${last.reason.replace(/\.$/, '')}.${hintOf(options)}`);
    }
    await sleep(1000);
  }
}

function hintOf(options: WaitOptions): string {
  return options.hint ? `\n  ${options.hint()}` : '';
}
