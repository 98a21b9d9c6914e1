/**
 * The servers the integration tests rely on really work: a consumer group receives what was
 * produced, OpenSearch finds an indexed document by full text, Redis counts. Fails without them.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNamespace } from '../helpers/namespace.ts';
import { createTestKafka, createTestOpenSearch, createTestRedis } from '../helpers/servers.ts';

const ns = createTestNamespace();
let kafka: Kafka;
let opensearch: Client;
let redis: Redis;

beforeAll(() => {
  kafka = createTestKafka();
  opensearch = createTestOpenSearch();
  redis = createTestRedis();
});

afterAll(async () => {
  await ns.cleanup();
  await opensearch?.close();
  await redis?.quit();
});

describe('integration servers', () => {
  it('delivers produced messages to a consumer group, in order, by key', async () => {
    const topic = ns.topic('zcc.users');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: ['one', 'two', 'three'].map((value) => ({ key: 'account-1', value })),
    });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `${ns.prefix}-smoke` });
    const received: string[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }) => {
              received.push(message.value?.toString() ?? '');
              if (received.length === 3) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    expect(received).toEqual(['one', 'two', 'three']);
  });

  it('finds an indexed document with a full-text query', async () => {
    const index = ns.index('smoke');
    await opensearch.indices.create({
      index,
      body: {
        settings: { number_of_shards: 1, number_of_replicas: 0 },
        mappings: { properties: { name: { type: 'text' }, account: { type: 'keyword' } } },
      },
    });
    await opensearch.index({
      index,
      id: 'inbox-1',
      body: { name: 'Support voicemail inbox', account: 'account-1' },
      refresh: true,
    });
    const found = await opensearch.search({
      index,
      body: { query: { match: { name: 'voicemail' } } },
    });
    expect(found.body.hits.hits.map((hit) => hit._id)).toEqual(['inbox-1']);
  });

  it('increments and reads a counter', async () => {
    const key = ns.key('smoke:counter');
    await redis.incrby(key, 2);
    await redis.incr(key);
    expect(await redis.get(key)).toBe('3');
  });
});
