/**
 * The pure pieces of the integrity work: the continuity rule (a batch may only continue its
 * partition where Redis's state ends), the external versions of an epoch, the exact position of
 * an account's counters, the repair marker in words, the API's refusal, and the write gate.
 */
import { describe, expect, it } from 'vitest';
import { exactPositions } from '../../src/redis/counters-reader.ts';
import { refusal } from '../../src/api/integrity-gate.ts';
import { checkContinuity, splitField } from '../../src/integrity/continuity.ts';
import { type RepairMarker, describeRepair } from '../../src/integrity/repair-state.ts';
import { EPOCH_UNIT, versionOffset } from '../../src/integrity/versions.ts';
import { createWriteGate } from '../../src/projector/write-gate.ts';

const batch = (field: string, firstOffset: bigint, highWatermark: bigint) => ({ field, firstOffset, highWatermark });

describe('continuity: a batch continues its partition where Redis ends', () => {
  it('given applied up to 9, a batch from 10 (or an overlap from 5) is projected', () => {
    const verdict = checkContinuity(
      [batch('t:0', 10n, 20n), batch('t:1', 5n, 20n)],
      new Map([
        ['t:0', 9n],
        ['t:1', 9n],
      ]),
    );
    expect(verdict).toEqual({ ok: ['t:0', 't:1'], gaps: [], resets: [] });
  });

  it('given applied up to 9, a batch from 15 is a gap to read again from 10 (Redis lost applied events)', () => {
    expect(checkContinuity([batch('t:0', 15n, 30n)], new Map([['t:0', 9n]])).gaps).toEqual([{ field: 't:0', from: 10n, firstOffset: 15n }]);
  });

  it('given nothing applied, the partition must start at offset 0', () => {
    expect(checkContinuity([batch('t:0', 0n, 3n)], new Map()).ok).toEqual(['t:0']);
    expect(checkContinuity([batch('t:0', 7n, 9n)], new Map()).gaps).toEqual([{ field: 't:0', from: 0n, firstOffset: 7n }]);
  });

  it('given applied up to 40, a partition whose log ends at 12 was recreated', () => {
    expect(checkContinuity([batch('t:0', 3n, 13n)], new Map([['t:0', 40n]])).resets).toEqual([{ field: 't:0', applied: 40n, highWatermark: 13n }]);
  });

  it('splits a field at its last colon', () => {
    expect(splitField('ns-zcc.users:12')).toEqual({ topic: 'ns-zcc.users', partition: 12 });
  });
});

describe('external versions', () => {
  it('a higher epoch outranks any version of a lower one', () => {
    expect(versionOffset(0)).toBe(0);
    expect(versionOffset(2) + 1).toBeGreaterThan(versionOffset(1) + (EPOCH_UNIT - 1));
    expect(Number.isSafeInteger(versionOffset(2 ** 20 - 1) + EPOCH_UNIT - 1)).toBe(true);
  });

  it('refuses an epoch that would leave the safe integers', () => {
    expect(() => versionOffset(2 ** 20)).toThrow(RangeError);
    expect(() => versionOffset(-1)).toThrow(RangeError);
  });
});

describe('the exact position of an account’s counters', () => {
  it('is, per partition, the further of the generation’s applied position and the account’s own offset', () => {
    const generation = new Map([
      ['t:0', 10n],
      ['t:1', 50n],
    ]);
    const account = new Map([
      ['t:0', 14n],
      ['t:1', 30n],
      ['t:2', 3n],
    ]);
    expect(exactPositions(generation, account)).toEqual(
      new Map([
        ['t:0', 14n],
        ['t:1', 50n],
        ['t:2', 3n],
      ]),
    );
  });
});

const marker = (overrides: Partial<RepairMarker>): RepairMarker => ({
  code: 'redis_lost',
  reason: 'Redis has no live generation for namespace ns',
  phase: 'rebuilding',
  generation: 'g3',
  started_at: '2026-11-30T01:00:00.000Z',
  heartbeat_at: '2026-11-30T01:00:05.000Z',
  done: 250,
  total: 1000,
  ...overrides,
});

describe('the repair marker in words', () => {
  it('names the reason, what is done and how far', () => {
    expect(describeRepair(marker({}))).toBe(
      'Redis has no live generation for namespace ns; repair under way since 2026-11-30T01:00:00.000Z: rebuilding generation g3 from Kafka (250 of 1000, 25 %)',
    );
    expect(describeRepair(marker({ code: 'redis_behind', phase: 'cleaning', total: 0 }))).toMatch(/rewriting OpenSearch from Redis's state before replaying the lost events$/);
  });

  it('a failed repair is its reason alone', () => {
    expect(describeRepair(marker({ phase: 'failed', reason: 'no history; the repair failed: topic t partition 1: first missing offset 0' }))).toBe(
      'no history; the repair failed: topic t partition 1: first missing offset 0',
    );
  });
});

describe('the API’s refusal', () => {
  it('is a 503 index_unavailable naming the fault and the repair', () => {
    const error = refusal({ ok: false, fault: 'redis_lost', reason: 'Redis was emptied', repair: marker({}), checkedAt: '' });
    expect(error.code).toBe('index_unavailable');
    expect(error.message).toBe('The report cannot be trusted now: Redis was emptied');
    expect(error.details).toMatchObject({ fault: 'redis_lost', repair: { phase: 'rebuilding', done: 250, total: 1000 } });
  });

  it('a namespace never projected is not ready, not broken', () => {
    expect(refusal({ ok: false, fault: 'not_initialized', reason: 'no live generation yet', checkedAt: '' }).code).toBe('not_ready');
  });
});

describe('the write gate', () => {
  it('runs one task at a time, in order, and goes on after a failure', async () => {
    const gate = createWriteGate();
    const seen: string[] = [];
    const task = (name: string, ms: number, fail = false) =>
      gate.run(async () => {
        seen.push(`${name}+`);
        await new Promise((r) => setTimeout(r, ms));
        seen.push(`${name}-`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([task('bulk', 20, true), task('refresh', 5), task('bulk2', 1)]);
    expect(seen).toEqual(['bulk+', 'bulk-', 'refresh+', 'refresh-', 'bulk2+', 'bulk2-']);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
  });
});
