/**
 * Raw facts as Redis stores them (src/records/account-records.ts): decoding reads each value and
 * leaves the opening event as its stored JSON until asked (decision 52). Whatever the value, the
 * decoded state must give back exactly what was committed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRaw, splitRawChanges } from '../../src/records/account-records.ts';
import { type EventRef, type RawValue, openedEvent } from '../../src/records/fact-intervals.ts';

const eventRef: fc.Arbitrary<EventRef> = fc.record({
  event_id: fc.string(),
  type: fc.constantFrom('user.upserted', 'role.updated', 'queue.member_added'),
  topic: fc.constantFrom('cc.users', 'cc.roles'),
  partition: fc.nat(12),
  offset: fc.bigInt({ min: 0n, max: 2n ** 62n }).map(String),
  time: fc.constant('2026-03-01T00:00:00.000Z'),
  time_ms: fc.nat(),
  seq: fc.nat(),
});

/** Values that look like the stored shape's boundary, quotes and escapes included. */
const value = fc.oneof(
  fc.string(),
  fc.constantFrom(',"f":{', '{"v":1,"f":{"event_id":"x"}}', '\\",\\"f\\":{', '"', '\\', ''),
  fc.jsonValue().map((v) => JSON.stringify(v)),
);

describe('decodeRaw', () => {
  it('gives back every committed value and the event that opened it', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.record({ v: value, f: eventRef })), (committed) => {
        const changes = new Map<string, RawValue | null>(Object.entries(committed));
        const raw = decodeRaw(splitRawChanges(changes).set);
        expect(new Map(raw.values)).toEqual(new Map(Object.entries(committed).map(([k, { v }]) => [k, v])));
        expect(new Map([...raw.opened].map(([k, ref]) => [k, openedEvent(ref)]))).toEqual(new Map(Object.entries(committed).map(([k, { f }]) => [k, f])));
      }),
    );
  });

  it('parses a value stored in another shape whole', () => {
    const f: EventRef = { event_id: 'e1', type: 'user.upserted', topic: 'cc.users', partition: 0, offset: '9', time: '2026-03-01T00:00:00.000Z', time_ms: 1, seq: 2 };
    const raw = decodeRaw([
      ['reordered', JSON.stringify({ f, v: 'x' })],
      ['another field first', JSON.stringify({ w: 1, v: 'y', f })],
    ]);
    expect(raw.values).toEqual(
      new Map([
        ['reordered', 'x'],
        ['another field first', 'y'],
      ]),
    );
    expect([...raw.opened.values()].map(openedEvent)).toEqual([f, f]);
  });
});
