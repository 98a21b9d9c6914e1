/** The three server clients, configured once for every command. */
import { Client } from '@opensearch-project/opensearch';
import { Redis } from 'ioredis';
import type { Config } from './config.ts';
import { createKafka } from './kafka/client.ts';
import type { Logger } from './logger.ts';

export interface Clients {
  kafka: ReturnType<typeof createKafka>;
  redis: Redis;
  opensearch: Client;
  close(): Promise<void>;
}

export function createClients(config: Config, logger: Logger): Clients {
  const redis = new Redis(config.redisUrl, {
    // Fail a command after a short while during an outage, so the caller's retry loop (which
    // heartbeats the consumer group and reports readiness) is in charge, not a silent queue.
    maxRetriesPerRequest: 2,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  redis.on('error', (error) => logger.debug({ err: error }, 'redis connection error'));
  const opensearch = new Client({ node: config.opensearchUrl, requestTimeout: 30_000, maxRetries: 0 });
  const kafka = createKafka(config, logger);
  return {
    kafka,
    redis,
    opensearch,
    async close() {
      redis.disconnect();
      await opensearch.close();
    },
  };
}
