/**
 * Stopping a projector in the middle of a backlog: its lanes are full, so eachBatch waits for room
 * when the stop comes. The stop must end (the consumer leaves the group), and a projector started
 * after it must finish the backlog exactly (what was committed stays, the rest is read again).
 * Before the fix, the next batch kafkajs delivered after the stop waited for room forever, and so
 * did the stop (seen in a bench: its consumer's session expired, the process idle).
 * Replacing a projector's consumer in the middle of a backlog (what a stall with nothing in flight
 * does, decision 66) must not lose or double anything either.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { FactEvent } from '../../projections/index.ts';
import { createProjector } from '../../src/projector/projector.ts';
import { createTestNamespace } from '../helpers/namespace.ts';
import { silentLogger } from '../../src/logger.ts';
import { toMessage } from './api-harness.ts';
import { prepareNamespace } from '../support/pipeline.ts';

const EVENTS = 6_000;

type Env = Awaited<ReturnType<typeof prepareNamespace>>;

/** A projector of the namespace with lanes of `laneEvents` and small fetches. */
function projectorIn(env: Env, laneEvents: number) {
  return createProjector({
    kafka: env.clients.kafka,
    redis: env.clients.redis,
    opensearch: env.clients.opensearch,
    config: { ...env.config, laneEvents, maxBytesPerPartition: 16 * 1024 },
    space: env.space,
    indices: env.indices,
    logger: silentLogger(),
    publishIntervalMs: 50,
  });
}

/** Settles once the applied offsets of all partitions add up to more than `offsets`. */
async function untilApplied(env: Env, offsets: bigint): Promise<void> {
  for (;;) {
    const applied = [...(await env.store.positions()).values()].reduce((sum, offset) => sum + offset, 0n);
    if (applied > offsets) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `done` once `step` settles, `late` if it has not after `ms`. */
function within(step: Promise<void>, ms: number, done: string, late: string): Promise<unknown> {
  return Promise.race([step.then(() => done), new Promise((r) => setTimeout(() => r(late), ms))]);
}

describe('a projector stopped in a backlog', () => {
  const ns = createTestNamespace();
  let close = async () => {};
  afterAll(async () => {
    await close();
    await ns.cleanup();
  });

  it('stops within seconds while its lanes are full, and the next one finishes the backlog', async () => {
    const env = await prepareNamespace(ns, { partitions: 1 });
    close = () => env.close();
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    const events: FactEvent[] = Array.from({ length: EVENTS }, (_, i) => ({
      id: `e${i}`,
      type: 'user.upserted',
      timeMs: t0 + i * 1_000,
      data: { user_id: `u${i % 1_500}`, display_name: `Agent ${i}`, user_email: `u${i % 1_500}@x.test`, user_access: 'active' },
    }));
    const messages = events.map((e, i) => toMessage(`acc-stop-${i % 3}`, e));
    let targets = new Map<string, bigint>();
    for (let i = 0; i < messages.length; i += 1_000) targets = await env.produce(messages.slice(i, i + 1_000));
    // Lanes of 50 events: eachBatch waits for room nearly all the time.
    const first = projectorIn(env, 50);
    await first.start();
    // Stop once some rounds have committed, with most of the backlog still in Kafka.
    await untilApplied(env, 200n);
    expect(await within(first.stop(), 20_000, 'stopped', 'still stopping after 20 s')).toBe('stopped');
    const second = projectorIn(env, 50);
    await second.start();
    await env.waitForPositions(targets, 120_000);
    await second.stop();
    expect(await env.verify()).toEqual([]);
  });
});

describe("a projector's consumer replaced", () => {
  const ns = createTestNamespace();
  let close = async () => {};
  afterAll(async () => {
    await close();
    await ns.cleanup();
  });

  it('a consumer replaced in the middle of a backlog (what a stall with nothing in flight does) rejoins, and the backlog is finished exactly', async () => {
    const env = await prepareNamespace(ns, { partitions: 2 });
    close = () => env.close();
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    const messages = Array.from({ length: 3_000 }, (_, i) =>
      toMessage(`acc-restart-${i % 4}`, {
        id: `r${i}`,
        type: 'user.upserted',
        timeMs: t0 + i * 1_000,
        data: { user_id: `u${i % 700}`, display_name: `Agent ${i}`, user_email: `u${i % 700}@x.test`, user_access: i % 5 === 0 ? 'inactive' : 'active' },
      }),
    );
    const targets = await env.produce(messages);
    const projector = projectorIn(env, 100);
    const admin = env.clients.kafka.admin();
    await admin.connect();
    /** the group's members as the coordinator sees them */
    const members = async () => (await admin.describeGroups([projector.groupId])).groups[0]!.members.map((m) => m.memberId);
    await projector.start();
    try {
      await untilApplied(env, 300n);
      const before = await members();
      expect(before).toHaveLength(1);
      expect(await within(projector.restartConsumer('a test'), 40_000, 'restarted', 'still restarting after 40 s')).toBe('restarted');
      await env.waitForPositions(targets, 120_000);
      expect(projector.status().state).toBe('running');
      // One member, a new one: the old consumer left the group.
      const after = await members();
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(before[0]);
    } finally {
      await projector.stop();
    }
    expect(await members()).toEqual([]);
    await admin.disconnect();
    expect(await env.verify()).toEqual([]);
  });
});
