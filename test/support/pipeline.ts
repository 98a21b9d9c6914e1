/**
 * The whole pipeline in a test: topics, index and keys in the test's namespace, a projector
 * running in this process, a producer, and waits on the searchable positions.
 */
import type { Producer } from 'kafkajs';
import { createClients } from '../../src/clients.ts';
import { loadConfig } from '../../src/config.ts';
import { openLiveGeneration } from '../../src/generation.ts';
import { endOffsets as topicEndOffsets, ensureTopics } from '../../src/kafka/client.ts';
import { createLogger, silentLogger } from '../../src/logger.ts';

/** TEST_LOG=debug (or info, warn) shows the projector's logs of in-process pipelines. */
const testLogger = () => (process.env.TEST_LOG ? createLogger({ level: process.env.TEST_LOG }) : silentLogger());
import type { Metrics } from '../../src/metrics.ts';
import { createProjector } from '../../src/projector/projector.ts';
import { createAccountStore } from '../../src/redis/account-store.ts';
import { verifyAll } from '../../src/verify.ts';
import type { TestNamespace } from '../helpers/namespace.ts';
import { serverAddresses } from '../helpers/servers.ts';

export type LogicalTopicName = 'users' | 'roles' | 'queues' | 'inboxes' | 'deadLetter';

export interface OutgoingMessage {
  topic: LogicalTopicName;
  key: string | null;
  value: string | Buffer | null;
}

/** The product's config for a test namespace, against the test servers. */
export function testConfig(ns: TestNamespace, extra: Record<string, string> = {}) {
  const servers = serverAddresses();
  return loadConfig({
    ...ns.env,
    KAFKA_BROKERS: servers.kafkaBrokers.join(','),
    OPENSEARCH_URL: servers.opensearchUrl,
    REDIS_URL: servers.redisUrl,
    LOG_LEVEL: 'warn',
    ...extra,
  });
}

/** Creates the namespace's topics, generation and index; returns what a projector or test needs. */
export async function prepareNamespace(ns: TestNamespace, options: { partitions?: number } = {}) {
  const config = testConfig(ns);
  const clients = createClients(config, silentLogger());
  const admin = clients.kafka.admin();
  await admin.connect();
  await ensureTopics(admin, config.topics, options.partitions ?? 2);
  await admin.disconnect();
  const { generation, indices } = await openLiveGeneration(clients.redis, clients.opensearch, config.namespace);
  const index = indices.users;
  const space = { namespace: config.namespace, generation };
  const store = createAccountStore(clients.redis, space);
  let producer: Producer | undefined;

  /** The last offset of every non-empty partition of the topics (only this test writes to them). */
  async function endOffsets(topics: readonly string[]): Promise<Map<string, bigint>> {
    const admin = clients.kafka.admin();
    await admin.connect();
    try {
      return await topicEndOffsets(admin, topics);
    } finally {
      await admin.disconnect();
    }
  }

  return {
    config,
    clients,
    space,
    index,
    indices,
    store,
    endOffsets,

    /** Produces in order (per topic); returns the end (last offset) of each touched `<topic>:<partition>`. */
    async produce(messages: readonly OutgoingMessage[]): Promise<Map<string, bigint>> {
      if (!producer) {
        producer = clients.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
      }
      // One send per run of the same topic keeps each topic's order exactly as given.
      const touched = new Set<string>();
      let i = 0;
      while (i < messages.length) {
        const topic = messages[i]!.topic;
        const run: OutgoingMessage[] = [];
        while (i < messages.length && messages[i]!.topic === topic) run.push(messages[i++]!);
        touched.add(config.topics[topic]);
        await producer.send({ topic: config.topics[topic], acks: -1, messages: run.map((m) => ({ key: m.key, value: m.value })) });
      }
      return endOffsets([...touched]);
    },

    /** Waits until every given position is searchable. */
    async waitForPositions(target: ReadonlyMap<string, bigint>, timeoutMs = 60_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = await store.positions();
        const behind = [...target].filter(([field, offset]) => (now.get(field) ?? -1n) < offset);
        if (behind.length === 0) return;
        if (Date.now() > deadline)
          throw new Error(`positions not reached in ${timeoutMs} ms: ${behind.map(([f, o]) => `${f} wants ${o}, has ${now.get(f) ?? 'none'}`).join('; ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },

    /** A projector in this process (stop it before the test ends). */
    projector(options: { groupId?: string; metrics?: Metrics; workPerCommit?: number; publishIntervalMs?: number } = {}) {
      return createProjector({
        kafka: clients.kafka,
        redis: clients.redis,
        opensearch: clients.opensearch,
        config,
        space,
        indices,
        logger: testLogger(),
        publishIntervalMs: 50,
        ...options,
      });
    },

    async verify() {
      const reports = await verifyAll({ store, opensearch: clients.opensearch, index, factsIndex: indices.facts, windowMs: config.dedupeWindowMs });
      return reports.flatMap((r) => r.differences.map((d) => `${r.accountId}: ${d}`));
    },

    async close() {
      await producer?.disconnect();
      await clients.close();
    },
  };
}

export type PreparedNamespace = Awaited<ReturnType<typeof prepareNamespace>>;
