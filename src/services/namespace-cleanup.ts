/**
 * Deleting one namespace from the servers: every consumer group, topic, index (with its aliases),
 * index template and Redis key whose name starts with the prefix. Used by the test namespaces
 * (test/helpers/namespace.ts) and the bench namespaces (bench/support/bench-namespace.ts); free of
 * vitest, so that the benches can use it.
 */
import { Client } from '@opensearch-project/opensearch';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';

/** Where the servers are. */
export interface NamespaceServers {
  kafkaBrokers: string[];
  opensearchUrl: string;
  redisUrl: string;
}

/** Deletes everything named with `prefix`; each server is cleaned even when another fails, the first failure is thrown after. */
export async function deleteNamespace(servers: NamespaceServers, prefix: string): Promise<void> {
  const results = await Promise.allSettled([cleanKafka(servers, prefix), cleanOpenSearch(servers, prefix), cleanRedis(servers, prefix)]);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

async function cleanKafka(servers: NamespaceServers, prefix: string): Promise<void> {
  const kafka = new Kafka({ clientId: `${prefix}-cleanup`, brokers: servers.kafkaBrokers, logLevel: logLevel.ERROR, retry: { retries: 8, initialRetryTime: 100 } });
  const admin = kafka.admin();
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

async function cleanOpenSearch(servers: NamespaceServers, prefix: string): Promise<void> {
  const client = new Client({ node: servers.opensearchUrl });
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
  for (const { name } of components.body.component_templates ?? []) await client.cluster.deleteComponentTemplate({ name });
}

async function cleanRedis(servers: NamespaceServers, prefix: string): Promise<void> {
  const redis = new Redis(servers.redisUrl, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
