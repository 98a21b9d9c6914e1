/**
 * Configured clients for integration tests, pointed at the servers that the global setup
 * (test/setup/global-services.ts) found or started.
 */
import { Client } from '@opensearch-project/opensearch';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { inject } from 'vitest';

/** Where the servers are; what the global setup provides. */
export interface ServerAddresses {
  kafkaBrokers: string[];
  opensearchUrl: string;
  redisUrl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServerAddresses;
  }
}

/**
 * The addresses provided by the global setup, else KAFKA_BROKERS / OPENSEARCH_URL / REDIS_URL,
 * else the local defaults on 127.0.0.1.
 */
export function serverAddresses(): ServerAddresses {
  let provided: ServerAddresses | undefined;
  try {
    provided = inject('services');
  } catch {
    provided = undefined; // outside a vitest worker
  }
  if (provided) return provided;
  const env = process.env;
  return {
    kafkaBrokers: (env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((broker) => broker.trim()),
    opensearchUrl: env.OPENSEARCH_URL || 'http://127.0.0.1:9200',
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
  };
}

/** A kafkajs client on the test brokers; logs only errors (kafkajs is chatty at INFO). */
export function createTestKafka(clientId = 'access-index-test'): Kafka {
  return new Kafka({
    clientId,
    brokers: serverAddresses().kafkaBrokers,
    logLevel: logLevel.ERROR,
    retry: { retries: 8, initialRetryTime: 100 },
  });
}

/** An OpenSearch client on the test server. Close it with `client.close()`. */
export function createTestOpenSearch(): Client {
  return new Client({ node: serverAddresses().opensearchUrl });
}

/** The OpenSearch server's path.repo (where fs snapshot repositories may live), if it has one. */
export async function snapshotRepositoryPath(opensearch: Client): Promise<string | undefined> {
  const { body } = await opensearch.nodes.info({ node_id: '_local', metric: 'settings' } as never);
  const node = Object.values((body as { nodes: Record<string, { settings?: { path?: { repo?: string[] | string } } }> }).nodes)[0];
  const repo = node?.settings?.path?.repo;
  return Array.isArray(repo) ? repo[0] : repo;
}

/** An ioredis client on the test server. Close it with `redis.quit()`. */
export function createTestRedis(): Redis {
  return new Redis(serverAddresses().redisUrl, { maxRetriesPerRequest: 3 });
}
