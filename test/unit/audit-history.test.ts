/**
 * History intervals -> changes, and intervals -> the report at an instant: on the records the
 * projector's own planning code writes, checked against the pure core stepped event by event.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEDUPE_WINDOW_MS,
  type FactEvent,
  type UserDoc,
  affectedUsers,
  allDocs,
  applyEvent,
  deriveUser,
  diffDocs,
  emptyAccount,
  replay,
} from '../../projections/index.ts';
import { docsAt, userDocAt, validAt, validAtQuery } from '../../src/audit/as-of.ts';
import { type HistoryChange, deriveChanges, reflects } from '../../src/audit/history-changes.ts';
import { OPEN_END, type HistoryRecord } from '../../src/projector/history-records.ts';
import { historyArb } from '../support/arbitraries.ts';
import { createEventBuilder } from '../support/builders.ts';
import { simulateHistory, topicOf } from './audit-simulate.ts';

const W = DEFAULT_DEDUPE_WINDOW_MS;

/** One account's events with strictly increasing times (the arbitrary's accounts folded into one). */
const oneAccountArb = historyArb.map((h) => h.map((r, i) => ({ ...r.event, id: `e${i}` }) as FactEvent));

/** The changes the core itself makes, event by event: [event id, user, key, change]. */
function expectedChanges(events: readonly FactEvent[]): Map<string, [string, string, string][]> {
  const state = emptyAccount();
  const out = new Map<string, [string, string, string][]>();
  for (const event of events) {
    const affected = affectedUsers(state.facts, event);
    const before = new Map([...affected].map((u) => [u, deriveUser(state.facts, u)]));
    applyEvent(state.facts, event);
    for (const userId of [...affected].sort()) {
      const list = out.get(userId) ?? [];
      const now: [string, string, string][] = [];
      for (const ch of diffDocs(before.get(userId) ?? null, deriveUser(state.facts, userId))) {
        const profile = ch.key === 'profile';
        const change = ch.opened && ch.closed ? (profile ? 'updated' : 'changed') : ch.opened ? (profile ? 'created' : 'granted') : profile ? 'deleted' : 'revoked';
        now.push([event.id, ch.key, change]);
      }
      // Within one event: a profile appearing first, then entries by key, a profile disappearing last.
      const rank = ([, key, change]: [string, string, string]) => (key !== 'profile' ? 1 : change === 'deleted' ? 2 : 0);
      now.sort((a, b) => rank(a) - rank(b) || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
      list.push(...now);
      if (list.length > 0) out.set(userId, list);
    }
  }
  return out;
}

function byUser(records: readonly HistoryRecord[]): Map<string, HistoryRecord[]> {
  const m = new Map<string, HistoryRecord[]>();
  for (const r of records) m.set(r.user_id, [...(m.get(r.user_id) ?? []), r]);
  return m;
}

const brief = (changes: HistoryChange[]) => changes.map((c) => [c.event.event_id, c.key, c.change]);

describe('history intervals to changes', () => {
  it('tells a scripted story: grants, a change of paths, revocations, profile created, updated, deleted', () => {
    const b = createEventBuilder(Date.parse('2026-05-01T09:00:00Z'), 's');
    const events: FactEvent[] = [
      b.inbox('i1', 'Sales voicemail'), // s-1
      b.queue('q1', { inbox: 'i1', automatic: true, name: 'Sales' }), // s-2
      b.role('r1', []), // s-3
      b.user('u1', 'Ana'), // s-4: created
      b.assignRole('r1', 'u1'), // s-5
      b.member('q1', 'u1', 'agent'), // s-6: nothing yet (no privilege)
      b.grantQueue('i1', 'q1'), // s-7: inbox granted through the queue
      b.role('r1', ['RecordingPlay:Edit']), // s-8: automatic recording granted, inbox gains a path
      b.user('u1', 'Ana Cruz'), // s-9: profile updated
      b.role('r1', []), // s-10: automatic recording revoked, inbox loses the path
      b.queueDeleted('q1'), // s-11: inbox revoked
      b.userDeleted('u1'), // s-12: deleted
    ];
    const records = simulateHistory('acc', events);
    const changes = deriveChanges(records.filter((r) => r.user_id === 'u1'));
    expect(brief(changes)).toEqual([
      ['s-4', 'profile', 'created'],
      ['s-7', 'inbox:inbox:i1', 'granted'],
      ['s-8', 'automatic_call_recording:queue:q1', 'granted'],
      ['s-8', 'inbox:inbox:i1', 'changed'],
      ['s-9', 'profile', 'updated'],
      ['s-10', 'automatic_call_recording:queue:q1', 'revoked'],
      ['s-10', 'inbox:inbox:i1', 'changed'],
      ['s-11', 'inbox:inbox:i1', 'revoked'],
      ['s-12', 'profile', 'deleted'],
    ]);
    const changed = changes[3]!;
    expect(changed.kind === 'entry' && changed.entry.granted_by.map((p) => p.rule)).toEqual(['automatic_recording_inbox', 'inbox_queue_grant']);
    expect(changed.kind === 'entry' && changed.previous?.granted_by.map((p) => p.rule)).toEqual(['inbox_queue_grant']);
    const revoked = changes[7]!;
    // A revocation shows the entry as it was, with its paths.
    expect(revoked.kind === 'entry' && revoked.entry.granted_by.map((p) => p.rule)).toEqual(['inbox_queue_grant']);
    expect(revoked.kind === 'entry' && revoked.previous).toBeNull();
    const updated = changes[4]!;
    expect(updated.kind === 'profile' && [updated.previous?.display_name, updated.profile.display_name]).toEqual(['Ana', 'Ana Cruz']);
    expect(changes.every((c) => c.event.topic === topicOf(events.find((e) => e.id === c.event.event_id)!))).toBe(true);
  });

  it('a deletion reads revoked entries first, then the deleted profile; a creation reads the profile first', () => {
    const b = createEventBuilder();
    const events: FactEvent[] = [b.inbox('i1'), b.inbox('i2'), b.grantUser('i1', 'u1'), b.grantUser('i2', 'u1'), b.user('u1'), b.userDeleted('u1')];
    const changes = deriveChanges(simulateHistory('acc', events));
    expect(brief(changes)).toEqual([
      ['e-5', 'profile', 'created'],
      ['e-5', 'inbox:inbox:i1', 'granted'],
      ['e-5', 'inbox:inbox:i2', 'granted'],
      ['e-6', 'inbox:inbox:i1', 'revoked'],
      ['e-6', 'inbox:inbox:i2', 'revoked'],
      ['e-6', 'profile', 'deleted'],
    ]);
  });

  it('leaves out events a position does not reflect; an interval closed by such an event stays open', () => {
    const b = createEventBuilder();
    const events: FactEvent[] = [b.inbox('i1'), b.user('u1'), b.grantUser('i1', 'u1'), b.revokeUser('i1', 'u1')];
    const records = simulateHistory('acc', events);
    // zcc.inboxes offsets: i1 = 0, grant = 1, revoke = 2
    const positions = new Map([['zcc.inboxes:0', 1n], ['zcc.users:0', 0n]]);
    expect(brief(deriveChanges(records, (e) => reflects(positions, e)))).toEqual([
      ['e-2', 'profile', 'created'],
      ['e-3', 'inbox:inbox:i1', 'granted'],
    ]);
    expect(reflects(new Map(), records[0]!.from)).toBe(false);
  });

  it('random histories: the changes of every user are exactly the core’s document changes, in order', () => {
    fc.assert(
      fc.property(oneAccountArb, (events) => {
        const expected = expectedChanges(events);
        const records = byUser(simulateHistory('acc', events));
        expect([...records.keys()].sort()).toEqual([...expected.keys()].sort());
        for (const [userId, list] of records) expect(brief(deriveChanges(list)), userId).toEqual(expected.get(userId));
      }),
      { numRuns: 150 },
    );
  });
});

describe('the report at an instant from intervals', () => {
  it('intervals are half-open: valid from the opening event’s time, no longer at the closing one’s', () => {
    expect(validAt({ from_ms: 10, to_ms: 20 }, 9)).toBe(false);
    expect(validAt({ from_ms: 10, to_ms: 20 }, 10)).toBe(true);
    expect(validAt({ from_ms: 10, to_ms: 20 }, 19)).toBe(true);
    expect(validAt({ from_ms: 10, to_ms: 20 }, 20)).toBe(false);
    expect(validAt({ from_ms: 10, to_ms: OPEN_END }, 8.64e15)).toBe(true);
    expect(validAtQuery('a', 15, ['u1'])).toEqual({
      bool: { filter: [{ term: { account_id: 'a' } }, { range: { from_ms: { lte: 15 } } }, { range: { to_ms: { gt: 15 } } }, { terms: { user_id: ['u1'] } }] },
    });
  });

  it('a user without a profile at T does not exist then, whatever entries say; of two overlapping intervals the later applied wins', () => {
    const b = createEventBuilder(1_000_000);
    const records = simulateHistory('acc', [b.inbox('i1'), b.user('u1', 'Old'), b.grantUser('i1', 'u1'), b.user('u1', 'New')]);
    const profiles = records.filter((r) => r.key === 'profile');
    expect(userDocAt('u1', records, 1_000_000 + 4000)?.display_name).toBe('New');
    // Event times running backwards against application order: both profile intervals hold at once.
    const skewed = records.map((r) => (r === profiles[1] ? { ...r, from_ms: r.from_ms - 10_000 } : r));
    expect(userDocAt('u1', skewed, 1_000_000 + 2500)?.display_name).toBe('New');
    expect(userDocAt('u1', records.filter((r) => r.key !== 'profile'), 1_000_000 + 4000)).toBeNull();
  });

  it('applied out of event-time order across topics, intervals follow the order of application (replay does not); at the end both agree', () => {
    const b = createEventBuilder(Date.parse('2026-05-01T09:00:00Z'));
    const inbox = b.inbox('i1'); // 09:00:01
    const user = b.user('u1'); // 09:00:02
    const grant = b.grantUser('i1', 'u1'); // 09:00:03 (inboxes topic)
    const deleted = b.userDeleted('u1'); // 09:00:04 (users topic)
    // The projector read the users topic ahead of the inboxes topic: the deletion came before the grant.
    const applied = [inbox, user, deleted, grant];
    const records = simulateHistory('acc', applied);
    const at = grant.timeMs; // 09:00:03: by event time, u1 exists and has i1
    const byTime = [...allDocs(replay([inbox, user, grant], W).facts).values()];
    expect(byTime.map((d) => d.entries.length)).toEqual([1]);
    // The history never saw the grant count (u1 was already deleted when it was applied).
    expect([...docsAt(records, at).values()].map((d) => d.entries.length)).toEqual([0]);
    const end = deleted.timeMs + 1;
    expect([...docsAt(records, end).values()]).toEqual([...allDocs(replay(applied, W).facts).values()]);
    expect([...docsAt(records, end).values()]).toEqual([]);
  });

  it('random histories: the documents at any instant equal the core’s replay of the events up to it', () => {
    fc.assert(
      fc.property(oneAccountArb, fc.array(fc.integer({ min: -2, max: 130 }), { minLength: 5, maxLength: 12 }), (events, picks) => {
        const records = simulateHistory('acc', events);
        const times = events.map((e) => e.timeMs);
        for (const pick of picks) {
          // before the first event, exactly at an event, between two, after the last
          const at = pick < 0 ? times[0]! - 1 : pick >= times.length ? times[times.length - 1]! + 3_600_000 : times[pick]! + (pick % 2) * 30_000;
          const expected: UserDoc[] = [...allDocs(replay(events.filter((e) => e.timeMs <= at), W).facts).values()];
          expect([...docsAt(records, at).values()]).toEqual(expected);
        }
      }),
      { numRuns: 150 },
    );
  });
});
