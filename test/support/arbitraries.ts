/**
 * fast-check arbitraries: random histories over small pools of ids, so that relations, deletions
 * and late arrivals collide often. Each account's events are split by topic in generation order.
 */
import fc from 'fast-check';
import type { FactEvent } from '../../projections/index.ts';

export type Topic = 'users' | 'roles' | 'queues' | 'inboxes';
export const TOPICS: readonly Topic[] = ['users', 'roles', 'queues', 'inboxes'];

export interface Routed {
  account: string;
  topic: Topic;
  event: FactEvent;
}

const users = fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5');
const roles = fc.constantFrom('r1', 'r2', 'r3');
const queues = fc.constantFrom('q1', 'q2', 'q3', 'q4');
const inboxes = fc.constantFrom('i1', 'i2', 'i3');
const memberType = fc.constantFrom('agent' as const, 'supervisor' as const);
const privileges = fc.subarray(['VoiceRecordingAccess:Read', 'RecordingPlay:Edit', 'VoiceRecordingDownload:Edit', 'VoiceRecordingDelete:Edit', 'InboxTab', 'QueueTab']);

type Draft = { topic: Topic; type: FactEvent['type']; data: FactEvent['data'] };
const d = <T extends FactEvent['type']>(topic: Topic, type: T, data: Extract<FactEvent, { type: T }>['data']): Draft => ({ topic, type, data });

const draft: fc.Arbitrary<Draft> = fc.oneof(
  {
    weight: 15,
    arbitrary: fc
      .record({ u: users, n: fc.constantFrom('Ana', 'Bo'), a: fc.constantFrom('active' as const, 'inactive' as const) })
      .map(({ u, n, a }) => d('users', 'user.upserted', { user_id: u, display_name: `${n} ${u}`, user_email: `${u}@x.test`, user_access: a })),
  },
  { weight: 1, arbitrary: users.map((u) => d('users', 'user.deleted', { user_id: u })) },
  { weight: 10, arbitrary: fc.record({ r: roles, p: privileges }).map(({ r, p }) => d('roles', 'role.upserted', { role_id: r, role_name: r, privileges: p })) },
  { weight: 1, arbitrary: roles.map((r) => d('roles', 'role.deleted', { role_id: r })) },
  { weight: 15, arbitrary: fc.record({ r: roles, u: users }).map(({ r, u }) => d('roles', 'role.user_assigned', { role_id: r, user_id: u })) },
  { weight: 5, arbitrary: fc.record({ r: roles, u: users }).map(({ r, u }) => d('roles', 'role.user_unassigned', { role_id: r, user_id: u })) },
  {
    weight: 15,
    arbitrary: fc
      .record({
        q: queues,
        c: fc.constantFrom('voice' as const, 'video' as const, 'messaging' as const, 'email' as const),
        o: fc.option(inboxes, { nil: null }),
        a: fc.boolean(),
        h: fc.boolean(),
        n: fc.constantFrom('Sales', 'Care'),
      })
      .map(({ q, c, o, a, h, n }) =>
        d('queues', 'queue.upserted', { cc_queue_id: q, queue_name: `${n} ${q}`, channel: c, overflow_to_inbox_id: o, recording: { automatic: a, ad_hoc: h } }),
      ),
  },
  { weight: 1, arbitrary: queues.map((q) => d('queues', 'queue.deleted', { cc_queue_id: q })) },
  {
    weight: 25,
    arbitrary: fc.record({ q: queues, u: users, t: memberType }).map(({ q, u, t }) => d('queues', 'queue.member_assigned', { cc_queue_id: q, user_id: u, member_type: t })),
  },
  {
    weight: 10,
    arbitrary: fc.record({ q: queues, u: users, t: memberType }).map(({ q, u, t }) => d('queues', 'queue.member_unassigned', { cc_queue_id: q, user_id: u, member_type: t })),
  },
  {
    weight: 10,
    arbitrary: fc.record({ i: inboxes, n: fc.constantFrom('Main', 'VIP') }).map(({ i, n }) => d('inboxes', 'inbox.upserted', { inbox_id: i, inbox_name: `${n} ${i}` })),
  },
  { weight: 1, arbitrary: inboxes.map((i) => d('inboxes', 'inbox.deleted', { inbox_id: i })) },
  { weight: 10, arbitrary: fc.record({ i: inboxes, u: users }).map(({ i, u }) => d('inboxes', 'inbox.user_granted', { inbox_id: i, user_id: u })) },
  { weight: 5, arbitrary: fc.record({ i: inboxes, u: users }).map(({ i, u }) => d('inboxes', 'inbox.user_revoked', { inbox_id: i, user_id: u })) },
  { weight: 10, arbitrary: fc.record({ i: inboxes, q: queues }).map(({ i, q }) => d('inboxes', 'inbox.queue_granted', { inbox_id: i, cc_queue_id: q })) },
  { weight: 5, arbitrary: fc.record({ i: inboxes, q: queues }).map(({ i, q }) => d('inboxes', 'inbox.queue_revoked', { inbox_id: i, cc_queue_id: q })) },
);

const T0 = Date.parse('2026-03-01T00:00:00Z');

/** A history over 1–3 accounts, in the order it happened (ids unique, times increasing). */
export const historyArb: fc.Arbitrary<Routed[]> = fc
  .array(fc.record({ account: fc.constantFrom('acc_a', 'acc_a', 'acc_a', 'acc_b', 'acc_c'), draft }), { minLength: 1, maxLength: 120, size: 'max' })
  .map((items) =>
    items.map(({ account, draft: x }, n) => ({
      account,
      topic: x.topic,
      event: { id: `${account}-${n}`, type: x.type, timeMs: T0 + n * 60_000, data: x.data } as FactEvent,
    })),
  );

/** Splits a history into per-topic queues (each topic's own order kept). */
export function byTopic(history: readonly Routed[]): Map<Topic, Routed[]> {
  const m = new Map<Topic, Routed[]>(TOPICS.map((t) => [t, []]));
  for (const r of history) m.get(r.topic)!.push(r);
  return m;
}

/** Merges the topics in the order the choices dictate: any interleaving that keeps each topic's order. */
export function interleave(topics: Map<Topic, Routed[]>, choices: readonly number[]): Routed[] {
  const queuesLeft = [...topics.values()].map((q) => [...q]).filter((q) => q.length > 0);
  const out: Routed[] = [];
  let c = 0;
  while (queuesLeft.length > 0) {
    const i = (choices[c++ % Math.max(choices.length, 1)] ?? 0) % queuesLeft.length;
    const q = queuesLeft[i]!;
    out.push(q.shift()!);
    if (q.length === 0) queuesLeft.splice(i, 1);
  }
  return out;
}
