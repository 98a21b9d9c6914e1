/**
 * A bench's own corner of the servers: a random namespace `bench-<hex>` for topics, consumer
 * groups, indices, templates and Redis keys, and a cleanup that removes exactly that namespace.
 * Cleanups of live namespaces also run on SIGINT/SIGTERM, so an interrupted bench leaves nothing.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@opensearch-project/opensearch';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { type Config, loadConfig } from '../../src/config.ts';

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

/** A fresh namespace against the configured servers (KAFKA_BROKERS, OPENSEARCH_URL, REDIS_URL or 127.0.0.1). */
export function createBenchNamespace(env: NodeJS.ProcessEnv = process.env): BenchNamespace {
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
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
        const results = await Promise.allSettled([cleanKafka(config, prefix), cleanOpenSearch(config, prefix), cleanRedis(config, prefix)]);
        live.delete(ns);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      })();
      return cleaned;
    },
  };
  live.add(ns);
  installSignalHandlers();
  return ns;
}

async function cleanKafka(config: Config, prefix: string): Promise<void> {
  const admin = new Kafka({ clientId: `${prefix}-cleanup`, brokers: config.kafkaBrokers, logLevel: logLevel.ERROR }).admin();
  await admin.connect();
  try {
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => id.startsWith(`${prefix}-`));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    const topics = (await admin.listTopics()).filter((name) => name.startsWith(`${prefix}-`));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

async function cleanOpenSearch(config: Config, prefix: string): Promise<void> {
  const client = new Client({ node: config.opensearchUrl });
  try {
    const pattern = `${prefix}-*`;
    const rows = (await client.cat.indices({ index: pattern, format: 'json', expand_wildcards: 'all' })).body as { index?: string }[];
    const names = rows.flatMap((row) => (row.index ? [row.index] : []));
    if (names.length > 0) await client.indices.delete({ index: names });
    const templates = await client.indices.getIndexTemplate({ name: pattern }, { ignore: [404] });
    for (const { name } of (templates.body as { index_templates?: { name: string }[] }).index_templates ?? []) await client.indices.deleteIndexTemplate({ name });
  } finally {
    await client.close();
  }
}

async function cleanRedis(config: Config, prefix: string): Promise<void> {
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
