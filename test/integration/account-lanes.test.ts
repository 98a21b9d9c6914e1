/**
 * Isolation between accounts (decision 34): a big account's fan-out and a small account's change on
 * the same partition. The small account's change is answered, with min_position at its own offset,
 * while the big account's events before it on that partition are still being projected; the answer
 * names the account's own position, ahead of the partition's, and shows exactly the account's
 * state. Afterwards everything equals a clean recomputation.
 */
import type { Producer } from 'kafkajs';
import type { FactEvent } from '../../projections/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjector } from '../../src/projector/projector.ts';
import { createEventBuilder } from '../support/builders.ts';
import { silentLogger } from '../../src/logger.ts';
import { type ApiEnv, startApiEnv, toMessage } from './api-harness.ts';

const BIG = 'acc-big';
const SMALL = 'acc-small';
/**
 * The neighbour's inboxes and queues, each queue with its own users: granting an inbox to a queue
 * reaches users no other grant reaches. (Renames did, until decision 64 made a rename write nothing.)
 */
const INBOXES = 40;
const HOLDERS = 50;

describe('a small account beside a big fan-out on the same partition', () => {
  let api: ApiEnv;
  let producer: Producer;
  let projector: ReturnType<typeof createProjector> | undefined;
  const b = createEventBuilder(Date.parse('2026-06-01T00:00:00Z'), 'lanes');

  beforeAll(async () => {
    // One partition per topic: both accounts' inbox events share it.
    api = await startApiEnv({ partitions: 1 });
    const setup: FactEvent[] = [];
    for (let i = 0; i < INBOXES; i++) {
      setup.push(b.inbox(`ib${i}`, `Voicemail ${i}`), b.queue(`q${i}`));
      for (let n = 0; n < HOLDERS; n++) setup.push(b.user(`u${i}-${n}`, `Agent ${i} ${n}`), b.member(`q${i}`, `u${i}-${n}`));
    }
    await api.load(BIG, setup);
    await api.load(SMALL, [b.inbox('i1', 'Front desk'), b.user('ana', 'Ana Small')]);
    producer = api.env.clients.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await projector?.stop();
    await producer?.disconnect();
    await api?.close();
  });

  it("is answered at its own offset while the neighbour's earlier events are still being projected", async () => {
    const topic = api.env.config.topics.inboxes;
    // Each grant reaches its queue's 50 members: with rounds of 20 units of work, one grant per round.
    const grants = Array.from({ length: INBOXES }, (_, i) => toMessage(BIG, b.grantQueue(`ib${i}`, `q${i}`)));
    const grant = toMessage(SMALL, b.grantUser('i1', 'ana'));
    // The harness's projector is replaced by one with small rounds, in the same group.
    // (Stopping it first: a stopped projector leaves its partitions to the new one.)
    await api.stopProjector();
    projector = createProjector({
      kafka: api.env.clients.kafka,
      redis: api.env.clients.redis,
      opensearch: api.env.clients.opensearch,
      config: { ...api.env.config, roundWork: 20 },
      space: api.env.space,
      indices: api.env.indices,
      logger: silentLogger(),
      publishIntervalMs: 50,
    });
    await projector.start();
    const sent = await producer.send({ topic, acks: -1, messages: [...grants, grant].map((m) => ({ key: m.key, value: m.value })) });
    const base = BigInt(sent[0]!.baseOffset!);
    const lastGrant = base + BigInt(INBOXES) - 1n;
    const grantAt = `${topic}:0:${base + BigInt(INBOXES)}`;

    const token = await api.token(SMALL);
    const summary = await api.get(`/v1/accounts/${SMALL}/access/summary?min_position=${grantAt}&wait_ms=30000`, token);
    const user = await api.get(`/v1/accounts/${SMALL}/access/users/ana?min_position=${grantAt}&wait_ms=30000`, token);
    // Read right after the answers: the partition's own positions had not reached the last grant.
    const [applied, published] = [(await api.env.store.applied()).get(`${topic}:0`), (await api.env.store.positions()).get(`${topic}:0`)];
    expect(summary.status, await summary.clone().text()).toBe(200);
    expect(user.status, await user.clone().text()).toBe(200);
    expect(applied).toBeLessThan(lastGrant);
    expect(published).toBeLessThan(lastGrant);

    const body = (await user.json()) as { entries: { target: { id: string } }[]; position: string };
    expect(body.entries.map((e) => e.target.id)).toEqual(['i1']);
    // The answer names the account's own position on that partition: the grant's offset.
    expect(body.position.split(',')).toContain(grantAt);
    const counted = (await summary.json()) as { users: Record<string, number>; position: string };
    expect(Object.values(counted.users).some((n) => n === 1)).toBe(true);
    expect(counted.position.split(',')).toContain(grantAt);

    // The neighbour catches up; then both accounts equal a clean recomputation.
    await api.env.waitForPositions(new Map([[`${topic}:0`, base + BigInt(INBOXES)]]), 120_000);
    expect(await api.env.verify()).toEqual([]);
  });
});
