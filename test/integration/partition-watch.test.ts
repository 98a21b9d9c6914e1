/**
 * A partition the consumer stops handing over (decision 67). kafkajs has a report of a consumer
 * that goes on fetching its other partitions and never hands one over again (tulios/kafkajs#1456);
 * here the projector's own, real kafkajs consumer is told to pause one partition, which is what
 * such a consumer does from the outside: the others move, so the projector makes steps all the
 * time, and the partition's accounts stop being fresh. The projector must name that partition
 * (and no other) and report itself degraded; once the partition is fed again, it is whole.
 */
import type { Consumer, Kafka } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createProjector } from '../../src/projector/projector.ts';
import { silentLogger } from '../../src/logger.ts';
import { createTestNamespace } from '../helpers/namespace.ts';
import { prepareNamespace } from '../support/pipeline.ts';
import { toMessage } from './api-harness.ts';

/** `count` renames of 50 users of 6 accounts (their keys spread over both partitions); ids start with `prefix`. */
function renames(prefix: string, count: number) {
  const t0 = Date.parse('2026-03-01T00:00:00Z');
  return Array.from({ length: count }, (_, i) =>
    toMessage(`acc-starve-${i % 6}`, {
      id: `${prefix}${i}`,
      type: 'user.upserted',
      timeMs: t0 + i * 1_000,
      data: { user_id: `u${i % 50}`, display_name: `Agent ${prefix}${i}`, user_email: `u${i % 50}@x.test`, user_access: 'active' },
    }),
  );
}

/** Resolves with the first value of `read` that `ok` accepts, polling; throws after `ms`. */
async function until<T>(read: () => T, ok: (value: T) => boolean, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} not seen in ${ms} ms; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a partition the consumer hands nothing over for', () => {
  const ns = createTestNamespace();
  let close = async () => {};
  afterAll(async () => {
    await close();
    await ns.cleanup();
  });

  it('is named, alone, and the projector reports itself degraded while the other partitions move; fed again, it is whole and exact', async () => {
    const env = await prepareNamespace(ns, { partitions: 2 });
    close = () => env.close();
    // The projector's own consumers, kept to pause one partition the way a stuck kafkajs fetcher leaves it.
    const consumers: Consumer[] = [];
    const kafka: Kafka = Object.create(env.clients.kafka, {
      consumer: { value: (config: Parameters<Kafka['consumer']>[0]) => consumers[consumers.push(env.clients.kafka.consumer(config)) - 1]! },
    });
    const projector = createProjector({
      kafka,
      redis: env.clients.redis,
      opensearch: env.clients.opensearch,
      config: { ...env.config, stallMs: 10_000 },
      space: env.space,
      indices: env.indices,
      logger: silentLogger(),
      publishIntervalMs: 50,
    });
    await projector.start();
    try {
      await env.waitForPositions(await env.produce(renames('a', 400)));
      const users = env.config.topics.users;
      const stuck = { topic: users, partitions: [0] };
      consumers.at(-1)!.pause([stuck]);
      const producedAt = Date.now();
      const targets = await env.produce(renames('b', 400));
      // The other partition goes on being fed and published...
      await env.waitForPositions(new Map([...targets].filter(([field]) => field !== `${users}:0`)));
      // ...and the stuck one is named, alone, once nothing was handed over for the stall time.
      const status = await until(
        () => projector.status(),
        (s) => (s.starvedPartitions?.length ?? 0) > 0,
        90_000,
        'a starved partition',
      );
      expect(status.state).toBe('degraded');
      expect(status.starvedPartitions!.map((p) => p.field)).toEqual([`${users}:0`]);
      expect(status.starvedPartitions![0]!.beyond).toBeGreaterThan(0);
      // Not before its events have waited the stall time.
      expect(Date.now() - producedAt).toBeGreaterThanOrEqual(10_000);
      expect(status.starvedPartitions![0]!.seconds).toBeGreaterThanOrEqual(10);
      consumers.at(-1)!.resume([stuck]);
      await env.waitForPositions(targets, 60_000);
      await until(
        () => projector.status(),
        (s) => s.starvedPartitions === undefined && s.state === 'running',
        30_000,
        'every partition fed again',
      );
    } finally {
      await projector.stop();
    }
    expect(await env.verify()).toEqual([]);
  });
});
