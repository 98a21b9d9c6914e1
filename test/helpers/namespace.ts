/**
 * One namespace per integration test file: a random prefix for every topic, consumer group,
 * index, alias, template and Redis key the test creates, and a cleanup that deletes them all.
 * Files can then run side by side on the shared servers and leave nothing behind.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@opensearch-project/opensearch';
import { createTestKafka, createTestOpenSearch, createTestRedis } from './servers.ts';

/** A test's own corner of Kafka, OpenSearch and Redis. */
export interface TestNamespace {
  /** "t-1a2b3c4d": lowercase, valid in topic, index and key names */
  prefix: string;
  /** A topic name: topic('zcc.users') is "t-1a2b3c4d-zcc.users". */
  topic(name: string): string;
  /** An index, alias or template name: index('inboxes') is "t-1a2b3c4d-inboxes". */
  index(name: string): string;
  /** A Redis key: key('count') is "t-1a2b3c4d:count". */
  key(name: string): string;
  /** Configuration of the product for this namespace: ACCESS_INDEX_NAMESPACE and the TOPIC_* names. */
  env: Record<string, string>;
  /** Deletes topics, consumer groups, indices (and their aliases), templates and keys starting with the prefix. */
  cleanup(): Promise<void>;
}

/** Creates a fresh namespace; nothing exists on the servers until the test creates it. */
export function createTestNamespace(): TestNamespace {
  const prefix = `t-${randomBytes(4).toString('hex')}`;
  const topic = (name: string): string => `${prefix}-${name}`;
  return {
    prefix,
    topic,
    index: (name) => `${prefix}-${name}`,
    key: (name) => `${prefix}:${name}`,
    env: {
      ACCESS_INDEX_NAMESPACE: prefix,
      TOPIC_USERS: topic('zcc.users'),
      TOPIC_ROLES: topic('zcc.roles'),
      TOPIC_QUEUES: topic('zcc.queues'),
      TOPIC_INBOXES: topic('zcc.inboxes'),
      TOPIC_DEAD_LETTER: topic('zcc.dead-letter'),
    },
    async cleanup() {
      // Each part runs even when another fails; the first failure is reported after.
      const results = await Promise.allSettled([cleanKafka(prefix), cleanOpenSearch(prefix), cleanRedis(prefix)]);
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

async function cleanKafka(prefix: string): Promise<void> {
  const admin = createTestKafka(`${prefix}-cleanup`).admin();
  await admin.connect();
  try {
    const groups = (await admin.listGroups()).groups.map((group) => group.groupId).filter((id) => id.startsWith(prefix));
    // A group whose member was SIGKILLed stays non-empty until its session times out: it is left
    // to expire (its topics are deleted below, so it holds nothing).
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    const topics = (await admin.listTopics()).filter((name) => name.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

async function cleanOpenSearch(prefix: string): Promise<void> {
  const client = createTestOpenSearch();
  try {
    const pattern = `${prefix}*`;
    const indices = await client.cat.indices({ index: pattern, format: 'json', expand_wildcards: 'all' });
    const names = (indices.body as { index?: string }[]).flatMap((row) => (row.index ? [row.index] : []));
    if (names.length > 0) await client.indices.delete({ index: names });
    await deleteTemplates(client, pattern);
  } finally {
    await client.close();
  }
}

async function deleteTemplates(client: Client, pattern: string): Promise<void> {
  const composable = await client.indices.getIndexTemplate({ name: pattern }, { ignore: [404] });
  for (const { name } of composable.body.index_templates ?? []) await client.indices.deleteIndexTemplate({ name });
  const legacy = await client.indices.getTemplate({ name: pattern }, { ignore: [404] });
  for (const name of Object.keys(legacy.body ?? {})) await client.indices.deleteTemplate({ name });
  const components = await client.cluster.getComponentTemplate({ name: pattern }, { ignore: [404] });
  for (const { name } of components.body.component_templates ?? []) {
    await client.cluster.deleteComponentTemplate({ name });
  }
}

async function cleanRedis(prefix: string): Promise<void> {
  const redis = createTestRedis();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
