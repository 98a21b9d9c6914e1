/**
 * One namespace per integration test file: a random prefix for every topic, consumer group,
 * index, alias, template and Redis key the test creates, and a cleanup that deletes them all.
 * Files can then run side by side on the shared servers and leave nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { deleteNamespace } from '../../src/services/namespace-cleanup.ts';
import { serverAddresses } from './servers.ts';

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
      await deleteNamespace(serverAddresses(), prefix);
    },
  };
}
