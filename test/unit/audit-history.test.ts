/**
 * A user's history derived from the fact intervals the projector's own planning code writes
 * (decision 30): checked against the pure core stepped event by event, and, for any interleaving of
 * the topics, replayed by its `at` times against `as_of` (the facts valid at T) and the core's replay
 * of the events up to T.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEDUPE_WINDOW_MS, type FactEvent, type UserDoc, affectedUsers, allDocs, applyEvent, deriveUser, diffDocs, emptyAccount, replay } from '../../projections/index.ts';
import { docsOfFacts, factsAt } from '../../src/audit/facts-at.ts';
import { historyItem } from '../../src/api/history-routes.ts';
import { type HistoryChange, deriveChanges, reflects } from '../../src/audit/history-changes.ts';
import { userFacts } from '../../src/audit/user-facts.ts';
import type { FactIntervalRecord } from '../../src/records/fact-intervals.ts';
import { byTopic, historyArb, interleave } from '../support/arbitraries.ts';
import { createEventBuilder } from '../support/builders.ts';
import { replayHistoryItems } from '../support/history-replay.ts';
import { simulateFacts, topicOf } from './audit-simulate.ts';

const W = DEFAULT_DEDUPE_WINDOW_MS;
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5'];

/** One account's events with strictly increasing times (the arbitrary's accounts folded into one). */
const oneAccountArb = historyArb.map((h) => h.map((r, i) => ({ ...r.event, id: `e${i}` })));

/** The changes the core itself makes, event by event: [event id, key, change]. */
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

const brief = (changes: HistoryChange[]) => changes.map((c) => [c.event.event_id, c.key, c.change]);

/** The user's document at T from the history as the API shows it (historyItem), replayed up to T. */
function replayChanges(userId: string, changes: readonly HistoryChange[], at: number): UserDoc | null {
  return replayHistoryItems(userId, changes.map(historyItem), at);
}

/** What the history route reads: the user's subject, then what it leads to (an in-memory index). */
function readUserFacts(userId: string, all: readonly FactIntervalRecord[]): Promise<FactIntervalRecord[]> {
  return userFacts(userId, (subjects) => all.filter((r) => subjects.includes(r.subject)));
}

describe('a user’s history from the fact intervals', () => {
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
    const changes = deriveChanges('u1', simulateFacts('acc', events));
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
    const changes = deriveChanges('u1', simulateFacts('acc', events));
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
    const records = simulateFacts('acc', events);
    // zcc.inboxes offsets: i1 = 0, grant = 1, revoke = 2
    const positions = new Map([
      ['zcc.inboxes:0', 1n],
      ['zcc.users:0', 0n],
    ]);
    expect(brief(deriveChanges('u1', records, (e) => reflects(positions, e)))).toEqual([
      ['e-2', 'profile', 'created'],
      ['e-3', 'inbox:inbox:i1', 'granted'],
    ]);
    expect(reflects(new Map(), records[0]!.from)).toBe(false);
  });

  it('random histories in time order: the changes of every user are exactly the core’s document changes, in order', () => {
    fc.assert(
      fc.property(oneAccountArb, (events) => {
        const expected = expectedChanges(events);
        const facts = simulateFacts('acc', events);
        for (const userId of USERS) expect(brief(deriveChanges(userId, facts)), userId).toEqual(expected.get(userId) ?? []);
      }),
      { numRuns: 150 },
    );
    // 2–3 s alone; past vitest's default 5 s once beside a benchmark on two cores.
  }, 30_000);

  it('any interleaving of the topics: the history replayed by its `at` times up to T is what as_of and the core’s replay give at T', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArb,
        fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 60, size: 'max' }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
        async (history, choices, picks) => {
          for (const account of new Set(history.map((r) => r.account))) {
            const mine = history.filter((r) => r.account === account);
            const applied = interleave(byTopic(mine), choices).map((r) => r.event);
            const facts = simulateFacts(account, applied);
            const times = mine.map((r) => r.event.timeMs);
            // Before the first event, after the last, exactly at events (a change's edge) and between two.
            const at = [times[0]! - 1, times[times.length - 1]! + 1, ...picks.map((p) => times[p % times.length]!), ...picks.map((p) => times[p % times.length]! + 30_000)];
            const histories = new Map<string, HistoryChange[]>();
            for (const userId of USERS) {
              const changes = deriveChanges(userId, await readUserFacts(userId, facts));
              // What the route reads (the user's subject and what it leads to) tells the same story as every interval.
              expect(brief(changes), `${account} ${userId}`).toEqual(brief(deriveChanges(userId, facts)));
              histories.set(userId, changes);
            }
            for (const t of at) {
              const core = allDocs(
                replay(
                  mine.filter((r) => r.event.timeMs <= t).map((r) => r.event),
                  W,
                ).facts,
              );
              const asOf = new Map([...docsOfFacts(factsAt(validAt(facts, t)))].map((d) => [d.user_id, d]));
              expect(asOf, `${account} as_of ${t}`).toEqual(core);
              for (const userId of USERS) expect(replayChanges(userId, histories.get(userId)!, t), `${account} ${userId} history up to ${t}`).toEqual(core.get(userId) ?? null);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  }, 60_000);

  it('of several events at one millisecond, the change names the one applied last; the story is the core’s at that instant', () => {
    const b = createEventBuilder(Date.parse('2026-05-01T09:00:00Z'), 'm');
    const [inbox, user, grant] = [b.inbox('i1'), b.user('u1'), b.grantUser('i1', 'u1')];
    const same = { ...grant, timeMs: user.timeMs };
    const changes = deriveChanges('u1', simulateFacts('acc', [inbox, user, same]));
    expect(brief(changes)).toEqual([
      ['m-3', 'profile', 'created'],
      ['m-3', 'inbox:inbox:i1', 'granted'],
    ]);
  });
});

function validAt(records: readonly FactIntervalRecord[], t: number): FactIntervalRecord[] {
  return records.filter((r) => r.from_ms <= t && t < r.to_ms);
}
