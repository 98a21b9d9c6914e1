/**
 * History retention against the real servers: the topics the project creates keep every event;
 * once the beginning of a partition is deleted, `rebuild` and `replay` (real child processes)
 * refuse, naming topic, partition and offset, and leave the namespace as it was; and the start-up
 * check warns about topics whose settings delete history.
 */
import type { Admin } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createClients } from '../../src/clients.ts';
import { checkHistoryRetention, readRetention } from '../../src/kafka/history-retention.ts';
import type { Logger } from '../../src/logger.ts';
import { liveGenerationKey } from '../../src/redis/keys.ts';
import type { Runtime } from '../../src/runtime.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/namespace.ts';
import { serverAddresses } from '../helpers/servers.ts';
import { testHistory } from '../support/history.ts';
import { type PreparedNamespace, prepareNamespace, testConfig } from '../support/pipeline.ts';
import { spawnCommand } from '../support/processes.ts';

/** A logger whose lines the test reads. */
function capturedLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) };
}

/** The start-up check reads only the Kafka client, the topic names and the logger of the runtime. */
const checkRuntime = (env: Pick<PreparedNamespace, 'clients' | 'config'>, logger: Logger) => ({ clients: env.clients, config: env.config, logger }) as unknown as Runtime;

async function withAdmin<T>(env: Pick<PreparedNamespace, 'clients'>, body: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = env.clients.kafka.admin();
  await admin.connect();
  try {
    return await body(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Runs a command as a child process in the namespace; its exit code and stderr. */
async function runCli(ns: TestNamespace, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const servers = serverAddresses();
  const p = spawnCommand(args, { ...ns.env, KAFKA_BROKERS: servers.kafkaBrokers.join(','), OPENSEARCH_URL: servers.opensearchUrl, REDIS_URL: servers.redisUrl, LOG_LEVEL: 'warn' });
  const code = await p.exited;
  return { code, stderr: p.logs.flatMap((l) => (typeof l.stderr === 'string' ? [l.stderr] : [])).join('\n') };
}

describe('history retention', () => {
  const ns = createTestNamespace();
  const finite = createTestNamespace();
  let env: PreparedNamespace | undefined;
  let closeFinite = async () => {};

  afterAll(async () => {
    await env?.close();
    await closeFinite();
    await ns.cleanup();
    await finite.cleanup();
  });

  it('ensureTopics creates every topic with unlimited retention and no compaction', async () => {
    env = await prepareNamespace(ns, { partitions: 2 });
    const { users, roles, queues, inboxes, deadLetter } = env.config.topics;
    const settings = await withAdmin(env, (admin) => readRetention(admin, [users, roles, queues, inboxes, deadLetter]));
    for (const topic of [users, roles, queues, inboxes, deadLetter]) {
      expect(settings.get(topic), topic).toMatchObject({ 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' });
    }
    const { logger, lines } = capturedLogger();
    await checkHistoryRetention(checkRuntime(env, logger));
    expect(lines.filter((l) => l.level === 40)).toEqual([]);
  });

  it('after deleteRecords (deleteTopicRecords) on one partition, rebuild and replay exit non-zero naming topic, partition and offset, and change nothing', async () => {
    const prepared = env ?? (env = await prepareNamespace(ns, { partitions: 2 }));
    const history = testHistory();
    await prepared.produce(history.messages);
    const topic = prepared.config.topics.roles;
    const offsets = await withAdmin(prepared, (admin) => admin.fetchTopicOffsets(topic));
    const { partition, high } = offsets.reduce((a, b) => (Number(b.high) > Number(a.high) ? b : a));
    expect(Number(high)).toBeGreaterThan(3);
    await withAdmin(prepared, async (admin) => {
      // kafkajs finds the partition's leader in metadata a fresh admin has not loaded yet.
      await admin.fetchTopicMetadata({ topics: [topic] });
      await admin.deleteTopicRecords({ topic, partitions: [{ partition, offset: '3' }] });
    });

    const redis = prepared.clients.redis;
    const snapshot = async () => ({
      live: await redis.get(liveGenerationKey(prepared.config.namespace)),
      rebuild: await redis.exists(`${prepared.config.namespace}:rebuild`),
      indices: Object.keys((await prepared.clients.opensearch.indices.get({ index: `${ns.prefix}-*` })).body).sort(),
      // which index each read alias names (opening the runtime may add its own write aliases)
      aliases: Object.fromEntries(
        await Promise.all(['users', 'facts'].map(async (a) => [a, Object.keys((await prepared.clients.opensearch.indices.getAlias({ name: ns.index(a) })).body).sort()] as const)),
      ),
      groups: (await withAdmin(prepared, (admin) => admin.listGroups())).groups
        .map((g) => g.groupId)
        .filter((g) => g.startsWith(ns.prefix))
        .sort(),
    });
    const before = await snapshot();
    expect(before.live).not.toBeNull();

    const gone = `topic ${topic} partition ${partition}: first missing offset 0; offsets 0..2 are gone (the log now starts at 3)`;
    const rebuild = await runCli(ns, ['rebuild']);
    expect(rebuild.code).not.toBe(0);
    expect(rebuild.stderr).toContain('rebuild refused');
    expect(rebuild.stderr).toContain(gone);

    const account = history.messages[0]!.key!;
    const replay = await runCli(ns, ['replay', '--account', account, '--until', '2099-01-01T00:00:00Z']);
    expect(replay.code).not.toBe(0);
    expect(replay.stderr).toContain('replay refused');
    expect(replay.stderr).toContain(gone);

    expect(await snapshot()).toEqual(before);

    // The live service is told at start, too.
    const { logger, lines } = capturedLogger();
    await checkHistoryRetention(checkRuntime(prepared, logger));
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([expect.stringContaining(gone)]);
  });

  it('warns at start about a topic with finite retention and one with compaction', async () => {
    const config = testConfig(finite);
    const clients = createClients(config, pino({ level: 'silent' }));
    closeFinite = () => clients.close();
    await withAdmin({ clients }, (admin) =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: config.topics.users, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '604800000' }] },
          // Retention named on each topic: the broker's own default differs between machines (ours is -1).
          {
            topic: config.topics.roles,
            numPartitions: 1,
            configEntries: [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'retention.ms', value: '86400000' },
            ],
          },
          {
            topic: config.topics.queues,
            numPartitions: 1,
            configEntries: [
              { name: 'retention.ms', value: '-1' },
              { name: 'retention.bytes', value: '-1' },
            ],
          },
        ],
      }),
    );
    const { logger, lines } = capturedLogger();
    await checkHistoryRetention(checkRuntime({ clients, config }, logger));
    const warnings = lines.filter((l) => l.level === 40);
    // A compacted topic's finite retention.ms is named too: it deletes once the policy is `delete` again.
    expect(warnings.map((w) => [w.topic, w.setting, w.value])).toEqual([
      [config.topics.users, 'retention.ms', '604800000'],
      [config.topics.roles, 'retention.ms', '86400000'],
      [config.topics.roles, 'cleanup.policy', 'compact'],
    ]);
    expect(warnings[0]!.msg).toContain(`topic ${config.topics.users} has retention.ms=604800000`);
    expect(warnings[0]!.msg).toContain(`--entity-name ${config.topics.users} --add-config retention.ms=-1`);
    expect(warnings[2]!.msg).toContain(`--entity-name ${config.topics.roles} --add-config cleanup.policy=delete`);
  });
});
