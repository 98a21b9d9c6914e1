/** Kafka wiring: the client (logging through pino), topic names, and topic creation. */
import { type Admin, Kafka, type LogEntry, logLevel } from 'kafkajs';
import type { LogicalTopic } from '../../schemas/events.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client whose own logs go to our structured logger (warnings and errors only). */
export function createKafka(config: Pick<Config, 'kafkaBrokers'>, logger: Logger, clientId = 'access-index'): Kafka {
  return new Kafka({
    clientId,
    brokers: config.kafkaBrokers,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...rest } = log;
        logger[LEVELS[level] ?? 'info']({ kafka: rest }, message);
      },
    retry: { initialRetryTime: 200, retries: 8 },
  });
}

export type TopicNames = Config['topics'];

/** Maps a topic name back to the logical topic it carries. */
export function logicalTopics(topics: Pick<TopicNames, 'users' | 'roles' | 'queues' | 'inboxes'>): Map<string, LogicalTopic> {
  return new Map<string, LogicalTopic>([
    [topics.users, 'users'],
    [topics.roles, 'roles'],
    [topics.queues, 'queues'],
    [topics.inboxes, 'inboxes'],
  ]);
}

/** Topic settings that keep every event (no time or size limit, no compaction). */
export const UNLIMITED_RETENTION: readonly { name: string; value: string }[] = [
  { name: 'retention.ms', value: '-1' },
  { name: 'retention.bytes', value: '-1' },
  { name: 'cleanup.policy', value: 'delete' },
];

/** The four event topics, in one order everywhere (users, roles, queues, inboxes). */
export const eventTopics = (topics: Pick<TopicNames, 'users' | 'roles' | 'queues' | 'inboxes'>): string[] => [...logicalTopics(topics).keys()];

/** The last offset of every non-empty partition of `topics` (`<topic>:<partition>` -> offset). */
export async function endOffsets(admin: Admin, topics: readonly string[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const topic of topics) for (const p of await admin.fetchTopicOffsets(topic)) if (BigInt(p.high) > BigInt(p.low)) out.set(`${topic}:${p.partition}`, BigInt(p.high) - 1n);
  return out;
}

/**
 * Creates the missing topics (the four event topics with `partitions` each, and the dead-letter
 * topic) with unlimited retention: the audit, `rebuild` and `replay` read every event since the
 * beginning. Existing topics are left as they are; the start-up check warns about theirs
 * (src/kafka/history-retention.ts).
 */
export async function ensureTopics(admin: Admin, topics: TopicNames, partitions = 4): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const wanted = [topics.users, topics.roles, topics.queues, topics.inboxes, topics.deadLetter].filter((t) => !existing.has(t));
  if (wanted.length === 0) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: wanted.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1, configEntries: [...UNLIMITED_RETENTION] })),
  });
}
