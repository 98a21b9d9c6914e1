/**
 * The fault model of docs/reliability.md, one real fault per scenario, injected mid-stream of a
 * realistic history into a real `access-index start` process: Redis emptied, Redis rolled back to
 * an older snapshot, an OpenSearch index deleted, a topic truncated. An independent oracle judges
 * every answer polled during and after the fault: it equals a replay of the history at (or, while
 * events flow, after) its own position, or it is a 503 with the reason: never a wrong 200. After
 * the repair, `verify` is clean and the index and counters equal the pure core's replay, and no
 * person did anything.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/api/tokens.ts';
import { createClients } from '../../src/clients.ts';
import { loadConfig } from '../../src/config.ts';
import { ensureTopics } from '../../src/kafka/client.ts';
import { silentLogger } from '../../src/logger.ts';
import { createAccountStore } from '../../src/redis/account-store.ts';
import { liveGenerationKey } from '../../src/redis/keys.ts';
import { verifyAll } from '../../src/verify.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/namespace.ts';
import { createTestKafka, createTestOpenSearch, serverAddresses, snapshotRepositoryPath } from '../helpers/servers.ts';
import { type AnswerPoller, type PollReport, createAnswerPoller } from '../support/answer-poller.ts';
import { expectedState, indexedState, testHistory } from '../support/history.ts';
import { type Oracle, createOracle } from '../support/oracle.ts';
import { freePort } from '../../src/services/ports.ts';
import { type ManagedProcess, spawnCommand } from '../support/processes.ts';
import { type RecordingProducer, createRecordingProducer } from '../support/recorded-producer.ts';
import { type RedisProcess, startRedisProcess } from '../../src/services/redis-process.ts';

const SECRET = 'store-faults-secret-of-at-least-32-characters';
const history = testHistory();
const expected = expectedState(history.events);

interface Stage {
  ns: TestNamespace;
  env: Record<string, string>;
  redis: RedisProcess;
  producer: RecordingProducer;
  oracle: Oracle;
  service: ManagedProcess;
  baseUrl: string;
  poller?: AnswerPoller;
}

let stage: Stage | undefined;

afterEach(async (context) => {
  const s = stage;
  stage = undefined;
  if (!s) return;
  // FAULT_LOG_FILE=path keeps the service's log lines (without the API's request lines) for a failed test.
  if (process.env.FAULT_LOG_FILE && context.task.result?.state === 'fail') {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      process.env.FAULT_LOG_FILE,
      s.service.logs
        .filter((l) => l.component !== 'api')
        .map((l) => JSON.stringify(l))
        .join('\n'),
    );
  }
  await s.poller?.stop();
  await s.service.kill('SIGTERM');
  await s.producer.close();
  await s.redis.stop();
  await s.ns.cleanup();
});

/** A namespace, a private Redis, the first `share` of the history produced, and `start` running. */
async function setUp(share: number): Promise<Stage> {
  const ns = createTestNamespace();
  const topics = { users: ns.env.TOPIC_USERS!, roles: ns.env.TOPIC_ROLES!, queues: ns.env.TOPIC_QUEUES!, inboxes: ns.env.TOPIC_INBOXES!, deadLetter: ns.env.TOPIC_DEAD_LETTER! };
  const kafka = createTestKafka('store-faults');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics, 4);
  await admin.disconnect();
  const redis = await startRedisProcess();
  const oracle = createOracle();
  const producer = createRecordingProducer(kafka, topics, { onRecorded: (records) => oracle.add(records) });
  await producer.produce(history.messages.slice(0, Math.floor(history.messages.length * share)));
  const servers = serverAddresses();
  const port = await freePort();
  const env = {
    ...ns.env,
    KAFKA_BROKERS: servers.kafkaBrokers.join(','),
    OPENSEARCH_URL: servers.opensearchUrl,
    REDIS_URL: redis.url,
    PORT: String(port),
    ACCESS_INDEX_JWT_SECRET: SECRET,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    // small fetches, so that the fault lands mid-stream
    KAFKA_MAX_BYTES_PER_PARTITION: '16384',
    LOG_LEVEL: process.env.FAULT_LOG ?? 'info',
  };
  const service = spawnCommand(['start'], env);
  await service.waitForLog((l) => l.msg === 'API listening', 60_000);
  stage = { ns, env, redis, producer, oracle, service, baseUrl: `http://127.0.0.1:${port}/` };
  return stage;
}

/** The rest of the history, produced while the fault is in effect. */
function rest(from: number): typeof history.messages {
  return history.messages.slice(Math.floor(history.messages.length * from));
}

/** Waits (through the API) until every produced event is searchable; returns how long it took. */
async function caughtUp(s: Stage, timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  const account = s.oracle.accounts()[0]!;
  const token = await mintToken({ secret: SECRET, accountId: account });
  for (;;) {
    const response = await fetch(`${s.baseUrl}v1/accounts/${account}/access/users?size=1&wait_ms=5000&min_position=${s.producer.endPosition()}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (response.status === 200) return Date.now() - started;
    await response.body?.cancel();
    if (Date.now() - started > timeoutMs)
      throw new Error(
        // The service's own lines (the API's are its refusals of these very requests).
        `not caught up in ${timeoutMs} ms; the service's last log lines:\n${s.service.logs
          .filter((l) => l.component !== 'api')
          .slice(-25)
          .map((l) => JSON.stringify(l))
          .join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

function poll(s: Stage): AnswerPoller {
  // One page per listing: a longer one keeps an OpenSearch point in time open for 5 minutes, and
  // thousands of polled listings would use up the server's (shared with the other test files).
  s.poller = createAnswerPoller({ baseUrl: s.baseUrl, secret: SECRET, oracle: s.oracle, maxAnswers: 100_000, maxMs: 240_000, pageSize: 1000, asOf: true });
  s.poller.start();
  return s.poller;
}

/** `access-index verify` exits 0, and, read directly, documents and counters equal the core's replay. */
async function expectExact(s: Stage): Promise<void> {
  const verify = spawnCommand(['verify'], s.env);
  const code = await verify.exited;
  expect(
    code,
    verify.logs
      .slice(-10)
      .map((l) => JSON.stringify(l))
      .join('\n'),
  ).toBe(0);
  const config = loadConfig(s.env);
  const clients = createClients(config, silentLogger());
  try {
    const generation = (await clients.redis.get(liveGenerationKey(config.namespace)))!;
    const space = { namespace: config.namespace, generation };
    const store = createAccountStore(clients.redis, space);
    const index = `${config.namespace}-users-${generation}`;
    const reports = await verifyAll({ store, opensearch: clients.opensearch, index, factsIndex: `${config.namespace}-facts-${generation}`, windowMs: config.dedupeWindowMs });
    expect(reports.flatMap((r) => r.differences)).toEqual([]);
    const actual = await indexedState({ clients, store, index, space }, [...expected.keys()]);
    expect(actual).toEqual(expected);
  } finally {
    await clients.close();
  }
}

/** No answer was wrong; some were refused with a reason naming the fault. */
function expectNeverWrong(report: PollReport, refusal: RegExp, logs: readonly Record<string, unknown>[] = []): void {
  if (report.wrongs.length > 0)
    // What the service did around a wrong answer, for whoever has to find out why.
    console.info(
      `service log lines (info and above) before the first wrong answer (${report.wrongs[0]!.at}):\n${logs
        .filter((l) => String(l.time ?? l.timestamp ?? '') <= (report.wrongs[0]!.at ?? ''))
        .slice(-25)
        .map((l) => JSON.stringify(l).slice(0, 400))
        .join('\n')}`,
    );
  // The tallies go to the test's output: the figures of docs/reliability.md come from here.
  console.info(
    `answers: ok ${report.ok}, ahead ${report.ahead}, refused ${report.refused}, wrong ${report.wrong}, error ${report.error}; refusals: ${[...report.refusals].map(([d, n]) => `${n}× ${d.slice(0, 120)}`).join(' | ')}`,
  );
  expect({ wrong: report.wrongs, errors: report.errors }).toEqual({ wrong: [], errors: [] });
  expect(report.refused).toBeGreaterThan(0);
  expect([...report.refusals.keys()].some((detail) => refusal.test(detail))).toBe(true);
  expect(report.ok).toBeGreaterThan(20);
}

describe('store faults, each injected mid-stream into a running service', () => {
  it('Redis comes back empty: reports refuse while the namespace is rebuilt from Kafka, then equal the replay', async () => {
    const s = await setUp(0.5);
    await caughtUp(s);
    const poller = poll(s);
    await new Promise((r) => setTimeout(r, 1_000));
    await s.redis.kill();
    await s.redis.start({ from: 'empty' });
    await s.producer.produce(rest(0.5));
    await s.service.waitForLog((l) => l.msg === 'repair done: the rebuilt generation is live', 150_000);
    await caughtUp(s);
    await new Promise((r) => setTimeout(r, 2_000));
    const report = await poller.stop();
    expectNeverWrong(report, /Redis has no (live generation|state)|rebuilding/);
    await expectExact(s);
  }, 300_000);

  it('Redis goes back to an older snapshot: reports refuse until OpenSearch is brought back to it, the lost events are replayed exactly', async () => {
    const s = await setUp(0.3);
    await caughtUp(s);
    const snapshot = await s.redis.snapshot();
    await s.producer.produce(history.messages.slice(Math.floor(history.messages.length * 0.3), Math.floor(history.messages.length * 0.6)));
    await caughtUp(s);
    const poller = poll(s);
    await new Promise((r) => setTimeout(r, 1_000));
    await s.redis.kill();
    await s.redis.start({ from: snapshot });
    await s.producer.produce(rest(0.6));
    await s.service.waitForLog((l) => l.msg === 'the events Redis lost are replayed; repair done', 150_000);
    await caughtUp(s);
    await new Promise((r) => setTimeout(r, 2_000));
    const report = await poller.stop();
    expectNeverWrong(report, /went back in time|connection to Redis/);
    await expectExact(s);
  }, 300_000);

  it('the live users index is deleted: reports refuse while the namespace is rebuilt from Kafka, then equal the replay', async () => {
    const s = await setUp(0.5);
    await caughtUp(s);
    const poller = poll(s);
    await new Promise((r) => setTimeout(r, 1_000));
    const opensearch = createTestOpenSearch();
    await opensearch.indices.delete({ index: `${s.ns.env.ACCESS_INDEX_NAMESPACE}-users-g1` });
    await s.producer.produce(rest(0.5));
    await s.service.waitForLog((l) => l.msg === 'repair done: the rebuilt generation is live', 150_000);
    await caughtUp(s);
    await new Promise((r) => setTimeout(r, 2_000));
    const report = await poller.stop();
    expectNeverWrong(report, /index .* is missing|rebuilding/);
    await expectExact(s);
    // The broken generation is gone, and nothing recreated its index.
    expect((await opensearch.indices.exists({ index: `${s.ns.env.ACCESS_INDEX_NAMESPACE}-users-g1` })).body).toBe(false);
    await opensearch.close();
  }, 300_000);

  it('the live users index is restored from an older snapshot: reports refuse while the namespace is rebuilt from Kafka, then equal the replay', async () => {
    const opensearch = createTestOpenSearch();
    const repoPath = await snapshotRepositoryPath(opensearch);
    if (!repoPath) {
      // A server without path.repo (a container, say) cannot take fs snapshots: nothing to restore.
      console.warn('OpenSearch has no path.repo: the snapshot scenario is not run on this server');
      await opensearch.close();
      return;
    }
    const s = await setUp(0.3);
    const ns = s.ns.env.ACCESS_INDEX_NAMESPACE!;
    const index = `${ns}-users-g1`;
    const repository = `${ns}-repo`;
    await caughtUp(s);
    await opensearch.snapshot.createRepository({ repository, body: { type: 'fs', settings: { location: `${repoPath}/${ns}` } } });
    try {
      await opensearch.snapshot.create({ repository, snapshot: 'before', wait_for_completion: true, body: { indices: index, include_global_state: false } });
      await s.producer.produce(history.messages.slice(Math.floor(history.messages.length * 0.3), Math.floor(history.messages.length * 0.6)));
      await caughtUp(s);
      const poller = poll(s);
      await new Promise((r) => setTimeout(r, 1_000));
      await opensearch.indices.close({ index });
      await opensearch.snapshot.restore({ repository, snapshot: 'before', wait_for_completion: true, body: { indices: index, include_global_state: false } });
      await s.producer.produce(rest(0.6));
      await s.service.waitForLog((l) => l.msg === 'repair done: the rebuilt generation is live', 150_000);
      await caughtUp(s);
      await new Promise((r) => setTimeout(r, 2_000));
      const report = await poller.stop();
      expectNeverWrong(report, /went back in time|restored|closed|missing/, s.service.logs);
      expect(s.service.logs.some((l) => l.fault === 'index_behind')).toBe(true);
      await expectExact(s);
    } finally {
      await opensearch.snapshot.delete({ repository, snapshot: 'before' }).catch(() => undefined);
      await opensearch.snapshot.deleteRepository({ repository }).catch(() => undefined);
      await opensearch.close();
    }
  }, 300_000);

  it('a topic lost the beginning of its history and then Redis comes back empty: the repair is refused, naming topic, partition and first missing offset', async () => {
    const s = await setUp(0.5);
    await caughtUp(s);
    const kafka = createTestKafka('store-faults-truncate');
    const admin = kafka.admin();
    await admin.connect();
    const topic = s.ns.env.TOPIC_ROLES!;
    await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 1, offset: '5' }] });
    await admin.disconnect();
    // The live state does not need those events: reports stay right.
    const poller = poll(s);
    // Enough right answers before the fault (a fixed wait gave 19 on a loaded machine).
    await waitFor(() => poller.report().ok > 20, 30_000);
    expect(poller.report().refused).toBe(0);
    await s.redis.kill();
    await s.redis.start({ from: 'empty' });
    await s.service.waitForLog((l) => l.msg === 'the repair failed; reports stay refused', 60_000);
    await new Promise((r) => setTimeout(r, 3_000));
    const report = await poller.stop();
    expectNeverWrong(report, new RegExp(`topic ${topic} partition 1: first missing offset 0`));
    // Nothing was swapped in: the namespace has no live generation, and nothing was built beside it.
    const opensearch = createTestOpenSearch();
    const indices = Object.keys((await opensearch.indices.get({ index: `${s.ns.env.ACCESS_INDEX_NAMESPACE}-users-*` })).body);
    await opensearch.close();
    expect(indices).toEqual([`${s.ns.env.ACCESS_INDEX_NAMESPACE}-users-g1`]);
  }, 300_000);

  it('the live generation was built by an earlier version (index layout 1): reports refuse while it is rebuilt in the current layout, then equal the replay', async () => {
    const s = await setUp(0.5);
    await caughtUp(s);
    await s.service.kill('SIGTERM');
    // What an earlier version left: the same identity in the indices' _meta, without a layout.
    const opensearch = createTestOpenSearch();
    const ns = s.ns.env.ACCESS_INDEX_NAMESPACE!;
    for (const index of [`${ns}-users-g1`, `${ns}-facts-g1`]) {
      const { body } = await opensearch.indices.getMapping({ index });
      const { layout: _, ...legacy } = (body as any)[index].mappings._meta.access_index;
      await opensearch.indices.putMapping({ index, body: { _meta: { access_index: legacy } } });
    }
    s.service = spawnCommand(['start'], s.env);
    await s.service.waitForLog((l) => l.msg === 'API listening', 60_000);
    const poller = poll(s);
    await s.producer.produce(rest(0.5));
    await s.service.waitForLog((l) => l.msg === 'repair done: the rebuilt generation is live', 150_000);
    await caughtUp(s);
    await new Promise((r) => setTimeout(r, 2_000));
    const report = await poller.stop();
    expectNeverWrong(report, /has layout 1, made by an earlier version|rebuilding/);
    await expectExact(s);
    expect((await opensearch.indices.exists({ index: `${ns}-facts-g1` })).body).toBe(false);
    await opensearch.close();
  }, 300_000);

  it("the consumer group's committed offsets are deleted while the service is down: it resumes from Redis's state, nothing is applied twice", async () => {
    const s = await setUp(0.5);
    await caughtUp(s);
    await s.service.kill('SIGTERM');
    const kafka = createTestKafka('store-faults-group');
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([`${s.ns.env.ACCESS_INDEX_NAMESPACE}-projector-g1`]);
    await admin.disconnect();
    await s.producer.produce(rest(0.5));
    s.service = spawnCommand(['start'], s.env);
    await s.service.waitForLog((l) => l.msg === 'API listening', 60_000);
    const poller = poll(s);
    await caughtUp(s);
    await new Promise((r) => setTimeout(r, 1_000));
    const report = await poller.stop();
    expect({ wrong: report.wrongs, errors: report.errors }).toEqual({ wrong: [], errors: [] });
    expect(report.ok).toBeGreaterThan(20);
    // Read from offset 0 again, every event would have been found already applied: none was re-applied
    // because consumption started where Redis's state ends.
    expect(s.service.logs.some((l) => String(l.msg).includes('went back in time'))).toBe(false);
    await expectExact(s);
  }, 300_000);

  it("the consumer group's committed offsets are reset to the end while the service is down: nothing is skipped", async () => {
    const s = await setUp(0.4);
    await caughtUp(s);
    await s.service.kill('SIGTERM');
    // Produced while the service is down, then skipped over by the reset: the state must not miss them.
    await s.producer.produce(history.messages.slice(Math.floor(history.messages.length * 0.4), Math.floor(history.messages.length * 0.7)));
    const kafka = createTestKafka('store-faults-reset');
    const admin = kafka.admin();
    await admin.connect();
    for (const topic of [s.ns.env.TOPIC_USERS!, s.ns.env.TOPIC_ROLES!, s.ns.env.TOPIC_QUEUES!, s.ns.env.TOPIC_INBOXES!])
      await admin.resetOffsets({ groupId: `${s.ns.env.ACCESS_INDEX_NAMESPACE}-projector-g1`, topic, earliest: false });
    await admin.disconnect();
    s.service = spawnCommand(['start'], s.env);
    await s.service.waitForLog((l) => l.msg === 'API listening', 60_000);
    const poller = poll(s);
    await s.producer.produce(rest(0.7));
    await caughtUp(s);
    // Enough answers to mean something: a round asks each route live and as_of, and an as_of
    // listing of a big account reads the whole account, so a fast catch-up may leave few.
    await waitFor(() => poller.report().ok > 20, 30_000);
    const report = await poller.stop();
    expect({ wrong: report.wrongs, errors: report.errors }).toEqual({ wrong: [], errors: [] });
    expect(report.ok).toBeGreaterThan(20);
    await expectExact(s);
  }, 300_000);

  it('a topic is deleted and recreated (its offsets start again): reports are refused with the reason, the projector stops', async () => {
    const s = await setUp(0.5);
    await caughtUp(s);
    const poller = poll(s);
    await new Promise((r) => setTimeout(r, 1_000));
    const kafka = createTestKafka('store-faults-recreate');
    const admin = kafka.admin();
    await admin.connect();
    const topic = s.ns.env.TOPIC_INBOXES!;
    await admin.deleteTopics({ topics: [topic] });
    await waitFor(async () => !(await admin.listTopics()).includes(topic), 30_000);
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 4, replicationFactor: 1 }] });
    await admin.disconnect();
    await waitFor(() => s.service.logs.some((l) => l.fault === 'topic_reset'), 60_000);
    await new Promise((r) => setTimeout(r, 2_000));
    const report = await poller.stop();
    expect({ wrong: report.wrongs, errors: report.errors }).toEqual({ wrong: [], errors: [] });
    expect([...report.refusals.keys()].some((d) => d.includes(`topic ${topic}`) && /deleted/.test(d))).toBe(true);
  }, 300_000);
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
