/**
 * Publishing a generated history to the four topics: an idempotent producer (acks = all), batches
 * sent one after the other so that each partition gets its events in the generator's order.
 */
import { type Kafka, Partitioners, type PartitionMetadata, type Producer } from 'kafkajs';
import { LOGICAL_TOPICS, type LogicalTopic } from '../../schemas/events.ts';
import type { GeneratedEvent } from './generator.ts';

export interface PublishProgress {
  /** events acknowledged so far */
  sent: number;
  /** events per second since the start */
  rate: number;
  elapsedMs: number;
}

export interface PublishOptions {
  kafka: Kafka;
  /** physical topic name of each logical topic */
  topics: Record<LogicalTopic, string>;
  events: Iterable<GeneratedEvent>;
  /** messages per sendBatch (all topics together); default 2,000 */
  batchSize?: number;
  /** called after each acknowledged batch */
  onProgress?: (progress: PublishProgress) => void;
  now?: () => number;
}

export interface PublishResult {
  /** events sent per logical topic */
  counts: Record<LogicalTopic, number>;
  total: number;
  /** offset of the last message written, per `topic:partition` (the positions a reader can wait for) */
  lastOffsets: Map<string, bigint>;
  elapsedMs: number;
}

interface Pending {
  topic: string;
  partition: number;
  key: string;
  value: string;
}

/**
 * An idempotent producer with one request in flight: what it sends stays in order per partition,
 * and a retry never writes a message twice.
 */
export function createOrderedProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // The default (murmur2) partitioner, as the Java client; naming it silences kafkajs' v2 notice.
    createPartitioner: Partitioners.DefaultPartitioner,
    // An idempotent producer must retry without limit (kafkajs warns otherwise); backoff is capped.
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000 },
  });
}

/**
 * Produces every event of `events`, in order, and returns what was written where.
 * Partitions are chosen here with kafkajs' default partitioner (murmur2 of the key, as the Java
 * client does), so that the last offset of each partition is known from the broker's answers.
 */
// eslint-disable-next-line max-lines-per-function -- one produce loop with its progress and partition bookkeeping; the steps are commented
export async function publishHistory(options: PublishOptions): Promise<PublishResult> {
  const { kafka, topics, batchSize = 2_000, onProgress } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer (got ${batchSize})`);
  const now = options.now ?? Date.now;
  const started = now();
  const partitionOf = await createPartitionLookup(
    kafka,
    LOGICAL_TOPICS.map((topic) => topics[topic]),
  );
  const producer = createOrderedProducer(kafka);
  await producer.connect();

  const counts: Record<LogicalTopic, number> = { users: 0, roles: 0, queues: 0, inboxes: 0 };
  const lastOffsets = new Map<string, bigint>();
  let sent = 0;

  const flush = async (batch: Pending[]) => {
    if (batch.length === 0) return;
    const byTopic = new Map<string, Pending[]>();
    const perPartition = new Map<string, number>();
    for (const message of batch) {
      const list = byTopic.get(message.topic) ?? [];
      list.push(message);
      byTopic.set(message.topic, list);
      const field = `${message.topic}:${message.partition}`;
      perPartition.set(field, (perPartition.get(field) ?? 0) + 1);
    }
    const answers = await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({
        topic,
        messages: messages.map(({ key, value, partition }) => ({ key, value, partition })),
      })),
    });
    for (const answer of answers) {
      const field = `${answer.topicName}:${answer.partition}`;
      const count = perPartition.get(field);
      if (count === undefined || answer.baseOffset === undefined) continue;
      lastOffsets.set(field, BigInt(answer.baseOffset) + BigInt(count - 1));
    }
    sent += batch.length;
    const elapsedMs = Math.max(1, now() - started);
    onProgress?.({ sent, rate: (sent * 1000) / elapsedMs, elapsedMs });
  };

  // One batch in flight while the next one is generated; a batch starts only when the previous
  // one is acknowledged, so each partition keeps the generator's order.
  let inFlight: Promise<void> = Promise.resolve();
  const send = async (batch: Pending[]) => {
    await inFlight;
    inFlight = flush(batch);
    // Handled here so that a failure does not count as unhandled before it is awaited.
    inFlight.catch(() => {});
  };
  try {
    let batch: Pending[] = [];
    for (const event of options.events) {
      const topic = topics[event.topic];
      counts[event.topic]++;
      batch.push({ topic, partition: partitionOf(topic, event.key), key: event.key, value: JSON.stringify(event.value) });
      if (batch.length >= batchSize) {
        await send(batch);
        batch = [];
      }
    }
    await send(batch);
    await inFlight;
  } finally {
    await inFlight.catch(() => {});
    await producer.disconnect();
  }
  const total = counts.users + counts.roles + counts.queues + counts.inboxes;
  return { counts, total, lastOffsets, elapsedMs: now() - started };
}

/** The partition kafkajs would choose for a key, from the topics' metadata (cached per key). */
async function createPartitionLookup(kafka: Kafka, topicNames: string[]): Promise<(topic: string, key: string) => number> {
  const admin = kafka.admin();
  await admin.connect();
  let metadata: Map<string, PartitionMetadata[]>;
  try {
    const answer = await admin.fetchTopicMetadata({ topics: topicNames });
    metadata = new Map(answer.topics.map((topic) => [topic.name, topic.partitions]));
  } finally {
    await admin.disconnect();
  }
  const partitioner = Partitioners.DefaultPartitioner();
  const cache = new Map<string, number>();
  return (topic, key) => {
    const cacheKey = `${topic}\u0000${key}`;
    let partition = cache.get(cacheKey);
    if (partition === undefined) {
      const partitionMetadata = metadata.get(topic);
      if (!partitionMetadata || partitionMetadata.length === 0) throw new Error(`no metadata for topic ${topic}`);
      partition = partitioner({ topic, partitionMetadata, message: { key, value: null } });
      cache.set(cacheKey, partition);
    }
    return partition;
  };
}
