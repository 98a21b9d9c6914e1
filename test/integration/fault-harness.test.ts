/**
 * The building blocks of the fault tests, proven against the real servers: a recorded history, the
 * oracle (the report a clean replay gives at any position), the answer poller, and a private Redis
 * that can be killed and rolled back. The service runs as a real child process (`start`).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/api/tokens.ts';
import { ensureTopics } from '../../src/kafka/client.ts';
import { createTestNamespace } from '../helpers/namespace.ts';
import { createTestKafka, serverAddresses } from '../helpers/servers.ts';
import { createAnswerJudge } from '../support/answer-judge.ts';
import { createAnswerPoller } from '../support/answer-poller.ts';
import { testHistory } from '../support/history.ts';
import { type Oracle, createOracle } from '../support/oracle.ts';
import { freePort } from '../../src/services/ports.ts';
import { type ManagedProcess, spawnCommand } from '../support/processes.ts';
import { type RecordingProducer, createRecordingProducer } from '../support/recorded-producer.ts';
import { type RedisProcess, startRedisProcess } from '../../src/services/redis-process.ts';

const SECRET = 'fault-harness-secret-of-at-least-32-characters';
const history = testHistory();
/** The first part of the history: every account bootstrapped, a share of its later changes. */
const SLICE = Math.floor(history.messages.length * 0.6);

const ns = createTestNamespace();
const topics = {
  users: ns.env.TOPIC_USERS!,
  roles: ns.env.TOPIC_ROLES!,
  queues: ns.env.TOPIC_QUEUES!,
  inboxes: ns.env.TOPIC_INBOXES!,
  deadLetter: ns.env.TOPIC_DEAD_LETTER!,
};
let redis: RedisProcess;
let producer: RecordingProducer;
let service: ManagedProcess;
let oracle: Oracle;
let baseUrl: string;

async function get(account: string, path: string): Promise<{ status: number; body: any }> {
  const token = await mintToken({ secret: SECRET, accountId: account });
  const response = await fetch(`${baseUrl}v1/accounts/${account}/access${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

/** Waits until every produced offset is searchable (and so applied), through the API itself. */
async function caughtUp(): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const answer = await get(oracle.accounts()[0]!, `/users?size=1&wait_ms=10000&min_position=${producer.endPosition()}`);
    if (answer.status === 200) return;
    if (answer.status !== 503 || Date.now() > deadline)
      throw new Error(
        `not caught up: ${JSON.stringify(answer.body)}\n${service.logs
          .slice(-10)
          .map((l) => JSON.stringify(l))
          .join('\n')}`,
      );
  }
}

/** The position with every offset halved: the first half of each partition. */
function halved(position: string): string {
  return position
    .split(',')
    .map((part) => part.replace(/:(\d+)$/, (_, offset: string) => `:${BigInt(offset) / 2n}`))
    .join(',');
}

beforeAll(async () => {
  const kafka = createTestKafka('fault-harness');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics, 4);
  await admin.disconnect();
  redis = await startRedisProcess();
  oracle = createOracle();
  // The oracle learns each send's offsets at once: a running service may answer with them before produce() resolves.
  producer = createRecordingProducer(kafka, topics, { onRecorded: (records) => oracle.add(records) });
  await producer.produce(history.messages.slice(0, SLICE));
  const servers = serverAddresses();
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}/`;
  service = spawnCommand(['start'], {
    ...ns.env,
    KAFKA_BROKERS: servers.kafkaBrokers.join(','),
    OPENSEARCH_URL: servers.opensearchUrl,
    REDIS_URL: redis.url,
    PORT: String(port),
    ACCESS_INDEX_JWT_SECRET: SECRET,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    LOG_LEVEL: 'info',
  });
  await service.waitForLog((l) => l.msg === 'API listening', 60_000);
});

afterAll(async () => {
  await service?.kill('SIGTERM');
  await producer?.close();
  await redis?.stop();
  await ns.cleanup();
});

describe('the fault harness', () => {
  it('records where Kafka put every message', () => {
    expect(producer.produced).toHaveLength(SLICE);
    // per partition, offsets 0, 1, 2, ... in production order
    const next = new Map<string, bigint>();
    for (const m of producer.produced) {
      const field = `${m.topic}:${m.partition}`;
      expect(m.offset).toBe(next.get(field) ?? 0n);
      next.set(field, m.offset + 1n);
    }
    expect(new Set(producer.produced.map((m) => m.partition)).size).toBeGreaterThan(1);
    expect(producer.produced.every((m) => m.event !== null)).toBe(true);
  });

  it('once caught up, every polled answer equals the replay at its position', async () => {
    await caughtUp();
    const poller = createAnswerPoller({ baseUrl, secret: SECRET, oracle, maxAnswers: 120, maxMs: 60_000, pageSize: 50, asOf: true });
    poller.start();
    const report = await poller.done;
    expect({ wrong: report.wrongs, ahead: report.aheads, errors: report.errors, refused: [...report.refusals] }).toEqual({ wrong: [], ahead: [], errors: [], refused: [] });
    expect(report.ok).toBeGreaterThanOrEqual(120);
  });

  it('the oracle finds a tampered counter, a missing row, a changed entry, and an answer newer than its position', async () => {
    await caughtUp();
    const account = oracle.accounts().at(-1)!;
    const summary = await get(account, '/summary');
    expect(summary.status).toBe(200);
    expect(oracle.checkAnswer('summary', account, summary.body)).toBeNull();
    expect(oracle.checkAnswer('summary', account, { ...summary.body, users: { ...summary.body.users, inbox: summary.body.users.inbox + 1 } })).toMatch(
      /users\.inbox: got \d+, want \d+/,
    );

    // The same answer, claimed at a position without the second half of every partition.
    expect(oracle.checkAnswer('summary', account, { ...summary.body, position: halved(summary.body.position) })).toMatch(/newer than its position/);

    const users = await get(account, '/users?size=1000');
    expect(users.status).toBe(200);
    expect(users.body.next_cursor).toBeNull();
    expect(oracle.checkAnswer('users', account, users.body)).toBeNull();
    expect(oracle.checkAnswer('users', account, { ...users.body, items: users.body.items.slice(1) })).toMatch(/^1 rows missing \(/);

    const userId = users.body.items[0].user_id;
    const user = await get(account, `/users/${userId}`);
    expect(user.status).toBe(200);
    expect(oracle.checkAnswer('user', account, user.body)).toBeNull();
    const renamed = { ...user.body, entries: [{ ...user.body.entries[0], target: { ...user.body.entries[0].target, name: 'renamed' } }, ...user.body.entries.slice(1)] };
    expect(oracle.checkAnswer('user', account, renamed)).toMatch(/entries\[0\]\.target\.name: got "renamed"/);
    expect(oracle.checkAnswer('user', account, { ...user.body, position: '' })).toMatch(/does not exist at this position/);
  });

  it('the judge tells an answer newer than its position (ahead) from a wrong one', async () => {
    await caughtUp();
    const account = oracle.accounts()[0]!;
    const summary = await get(account, '/summary');
    const judge = createAnswerJudge(oracle);
    judge.answered('summary', 'summary', account, summary.body, {});
    judge.answered('summary', 'summary', account, { ...summary.body, position: halved(summary.body.position) }, {});
    judge.answered('summary', 'summary', account, { ...summary.body, inboxes: summary.body.inboxes + 1 }, {});
    const report = judge.settle(0);
    expect([report.ok, report.ahead, report.wrong]).toEqual([1, 1, 1]);
    expect(report.aheads[0]!.note).toContain(`equals the replay at ${summary.body.position}`);
    expect(report.wrongs[0]!.note).toMatch(/^inboxes: got \d+, want \d+$/);
  });

  it.each([
    ['without persistence', undefined],
    ['with AOF', ['--appendonly', 'yes', '--appendfsync', 'everysec']],
  ])('a private Redis %s rolls back to a snapshot, or comes back empty', async (_, persistence) => {
    const scratch = await startRedisProcess(persistence ? { persistence } : {});
    try {
      const client = () => new Redis(scratch.url, { maxRetriesPerRequest: 1 });
      let c = client();
      await c.set('before', '1');
      const snapshot = await scratch.snapshot();
      await c.set('after', '2');
      c.disconnect();
      await scratch.kill();
      expect(scratch.running()).toBe(false);
      await scratch.start({ from: snapshot });
      c = client();
      expect(await c.mget('before', 'after')).toEqual(['1', null]);
      c.disconnect();
      await scratch.start({ from: 'empty' });
      c = client();
      expect(await c.dbsize()).toBe(0);
      c.disconnect();
    } finally {
      await scratch.stop();
    }
  });
});
