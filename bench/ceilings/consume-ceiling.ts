/**
 * The raw kafkajs consume ceiling: a fresh consumer group reads the four topics from the beginning
 * with an eachBatch that only counts (timed from the group join, as the projector is), with the projector's fetch settings (4 MiB per partition,
 * 4 partitions concurrently). Nothing is decoded: this is what kafkajs alone can deliver here.
 */
import type { Kafka } from 'kafkajs';
import { sleep } from '../../src/retry.ts';

export interface ConsumeCeilingResult {
  events: number;
  /** from run() to the last message counted (includes joining the group) */
  wallMs: number;
  /** from joining the group to the last message counted (the rate's denominator) */
  activeMs: number;
  joinMs: number;
  eventsPerSecond: number;
  batches: number;
}

export async function measureConsumeCeiling(options: { kafka: Kafka; groupId: string; topics: string[]; expected: number; timeoutMs: number }): Promise<ConsumeCeilingResult> {
  const consumer = options.kafka.consumer({ groupId: options.groupId, maxBytesPerPartition: 4 * 1024 * 1024, allowAutoTopicCreation: false, sessionTimeout: 30_000 });
  await consumer.connect();
  let count = 0;
  let batches = 0;
  let joined = 0;
  let last = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = performance.now();
  });
  try {
    await consumer.subscribe({ topics: options.topics, fromBeginning: true });
    const started = performance.now();
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch }) => {
        count += batch.messages.length;
        batches += 1;
        last = performance.now();
      },
    });
    const deadline = started + options.timeoutMs;
    while (count < options.expected) {
      if (performance.now() > deadline) throw new Error(`consume ceiling: ${count} of ${options.expected} events after ${options.timeoutMs} ms`);
      await sleep(5);
    }
    const activeMs = last - joined;
    return { events: count, wallMs: last - started, activeMs, joinMs: joined - started, eventsPerSecond: (count * 1000) / activeMs, batches };
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}
