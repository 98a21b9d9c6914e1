/**
 * A bench's own corner of the servers: a random namespace `bench-<hex>` for topics, consumer
 * groups, indices, templates and Redis keys, and a cleanup that removes exactly that namespace.
 * Cleanups of fresh namespaces also run on SIGINT/SIGTERM, so an interrupted bench leaves nothing
 * of its own; a kept namespace given back to a bench is not removed by an interrupt.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type Config, loadConfig } from '../../src/config.ts';
import { deleteNamespace } from '../../src/services/namespace-cleanup.ts';

export interface BenchNamespace {
  prefix: string;
  config: Config;
  cleanup(): Promise<void>;
}

const live = new Set<BenchNamespace>();
let handlersInstalled = false;

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: cleaning up ${[...live].map((ns) => ns.prefix).join(', ') || 'nothing'}\n`);
    // A second signal exits at once.
    process.once(signal, () => process.exit(130));
    void Promise.allSettled([...live].map((ns) => ns.cleanup())).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

/**
 * The servers a bench's own worker process talks to: the configured ones (REDIS_URL, OPENSEARCH_URL,
 * which a worker inherits from the bench that started it), else 127.0.0.1 as everywhere.
 */
export function workerServers(env: NodeJS.ProcessEnv = process.env): { redis: Redis; opensearchUrl: string } {
  const config = loadConfig({ REDIS_URL: env.REDIS_URL, OPENSEARCH_URL: env.OPENSEARCH_URL, LOG_LEVEL: 'warn' });
  return { redis: new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 }), opensearchUrl: config.opensearchUrl };
}

/**
 * A fresh namespace against the configured servers (KAFKA_BROKERS, OPENSEARCH_URL, REDIS_URL or
 * 127.0.0.1); or, given `existing`, the namespace an earlier bench left (kept on purpose).
 */
export function createBenchNamespace(env: NodeJS.ProcessEnv = process.env, existing?: string): BenchNamespace {
  if (existing !== undefined && !/^bench-[0-9a-f]{8}$/.test(existing)) throw new Error(`not a bench namespace: ${existing} (expected bench-<8 hex digits>)`);
  const prefix = existing ?? `bench-${randomBytes(4).toString('hex')}`;
  const topic = (name: string) => `${prefix}-${name}`;
  const config = loadConfig({
    KAFKA_BROKERS: env.KAFKA_BROKERS,
    OPENSEARCH_URL: env.OPENSEARCH_URL,
    REDIS_URL: env.REDIS_URL,
    LOG_LEVEL: 'warn',
    // The projector's tunables, for experiments (the product's defaults when unset).
    KAFKA_SESSION_TIMEOUT_MS: env.KAFKA_SESSION_TIMEOUT_MS,
    KAFKA_MAX_BYTES_PER_PARTITION: env.KAFKA_MAX_BYTES_PER_PARTITION,
    ACCESS_INDEX_PUBLISH_INTERVAL_MS: env.ACCESS_INDEX_PUBLISH_INTERVAL_MS,
    ACCESS_INDEX_ACCOUNT_CACHE_MB: env.ACCESS_INDEX_ACCOUNT_CACHE_MB,
    ACCESS_INDEX_MEMORY_MB: env.ACCESS_INDEX_MEMORY_MB,
    ACCESS_INDEX_LANE_EVENTS: env.ACCESS_INDEX_LANE_EVENTS,
    ACCESS_INDEX_ROUND_EVENTS: env.ACCESS_INDEX_ROUND_EVENTS,
    ACCESS_INDEX_ROUND_WORK: env.ACCESS_INDEX_ROUND_WORK,
    ACCESS_INDEX_NAMESPACE: prefix,
    TOPIC_USERS: topic('zcc.users'),
    TOPIC_ROLES: topic('zcc.roles'),
    TOPIC_QUEUES: topic('zcc.queues'),
    TOPIC_INBOXES: topic('zcc.inboxes'),
    TOPIC_DEAD_LETTER: topic('zcc.dead-letter'),
  });
  for (const address of [...config.kafkaBrokers, new URL(config.opensearchUrl).host, new URL(config.redisUrl).host])
    if (!/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(address)) throw new Error(`the bench only talks to local servers; ${address} is not local`);
  let cleaned: Promise<void> | undefined;
  const ns: BenchNamespace = {
    prefix,
    config,
    cleanup() {
      cleaned ??= (async () => {
        try {
          await deleteNamespace(config, prefix);
        } finally {
          live.delete(ns);
        }
      })();
      return cleaned;
    },
  };
  // A namespace kept on purpose stays on Ctrl-C; only the bench's own fresh ones are removed then.
  if (existing === undefined) {
    live.add(ns);
    installSignalHandlers();
  }
  return ns;
}
