/**
 * The state guard's epoch check after a write (src/projector/state-guard.ts), on real Redis: when
 * another member raised the generation's epoch (a rollback repair), every round whose bulk was made
 * at the older epoch fails, not only the first one checked (the rounds of one group bulk are
 * checked one after another: decisions 56 and 60).
 */
import type { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { versionOffset } from '../../src/integrity/versions.ts';
import { createStateGuard } from '../../src/projector/state-guard.ts';
import type { AccountStatePort } from '../../src/ports/account-state.ts';
import { generationKeys } from '../../src/redis/keys.ts';
import { createTestNamespace } from '../helpers/namespace.ts';
import { createTestRedis } from '../helpers/servers.ts';

describe('the epoch check after a write', () => {
  const ns = createTestNamespace();
  const redis = createTestRedis();
  const space = { namespace: ns.prefix, generation: 'g1' };

  beforeAll(async () => {
    await redis.hset(generationKeys(space).identity, { id: 'gen-test', created_at: new Date().toISOString(), epoch: '2' });
  });
  afterAll(async () => {
    await ns.cleanup();
    await redis.quit();
  });

  it('fails every round whose bulk was made at the epoch before a repair raised it, and passes those made after', async () => {
    const guard = createStateGuard({
      redis,
      kafka: {} as Kafka,
      space,
      namespace: ns.prefix,
      groupId: `${ns.prefix}-g1`,
      eventTopics: [],
      store: () => ({}) as AccountStatePort,
      logger: silentLogger(),
      onReconnect: () => undefined,
      seek: () => undefined,
      repair: async () => 0,
    });
    await guard.adopt();
    const before = new Set([versionOffset(2)]);
    await expect(guard.checkEpoch(before)).resolves.toBeUndefined();
    // Another member repaired a rollback: the epoch is 3 now, and the bulk of two rounds was made at 2.
    await redis.hset(generationKeys(space).identity, 'epoch', '3');
    await expect(guard.checkEpoch(before)).rejects.toThrow(/epoch changed to 3/);
    await expect(guard.checkEpoch(before)).rejects.toThrow(/epoch changed to 3/);
    expect(guard.epoch()).toBe(3);
    // A round that wrote at the new epoch passes.
    await expect(guard.checkEpoch(new Set([versionOffset(3)]))).resolves.toBeUndefined();
  });
});
