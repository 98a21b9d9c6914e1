/**
 * The generator's picture of one account: live users, roles, queues and inboxes, who is member of
 * what, and the grants. Only what the next events need is kept (never the events themselves), so a
 * history of millions of events streams in bounded memory.
 */
import type { Channel, EventData, EventType, MemberType } from '../../schemas/events.ts';
import type { Random } from './random.ts';
import type { RoleTemplate } from './roles.ts';

/** An event before it gets its envelope (id, time, account). */
export type Draft = { [T in EventType]: { type: T; data: EventData<T> } }[EventType];

interface Live {
  id: string;
  /** index in its live list (swap-remove) */
  pos: number;
  alive: boolean;
}

export interface UserRec extends Live {
  first: string;
  last: string;
  /** the romanized names, for the email */
  firstAscii: string;
  lastAscii: string;
  email: string;
  active: boolean;
  role: RoleRec | null;
  memberships: Membership[];
}

export interface RoleRec extends Live {
  name: string;
  /** replaced, never mutated: an emitted event may still hold the old array */
  privileges: readonly string[];
  template: RoleTemplate;
  /** users currently holding the role */
  size: number;
}

export interface QueueRec extends Live {
  name: string;
  dept: string;
  channel: Channel;
  overflow: InboxRec | null;
  automatic: boolean;
  adHoc: boolean;
  members: Set<Membership>;
}

export interface InboxRec extends Live {
  name: string;
  dept: string | null;
}

export interface Membership {
  user: UserRec;
  queue: QueueRec;
  type: MemberType;
}

/** A list of live entities with O(1) add, remove and uniform pick. */
export interface LiveList<T extends Live> {
  readonly items: T[];
  add(item: T): T;
  remove(item: T): void;
}

export function createLiveList<T extends Live>(): LiveList<T> {
  const items: T[] = [];
  return {
    items,
    add(item) {
      item.pos = items.length;
      item.alive = true;
      items.push(item);
      return item;
    },
    remove(item) {
      if (!item.alive) return;
      const last = items.pop() as T;
      if (last !== item) {
        items[item.pos] = last;
        last.pos = item.pos;
      }
      item.alive = false;
    },
  };
}

/** Grants of inboxes to users or queues, with uniform pick; grants to deleted ends are dropped lazily. */
export interface GrantList<T extends Live> {
  readonly size: number;
  /** false when that grant already stands */
  add(inbox: InboxRec, target: T): boolean;
  /** removes and returns a random standing grant, or null when there is none */
  takeRandom(rng: Random): { inbox: InboxRec; target: T } | null;
}

export function createGrantList<T extends Live>(): GrantList<T> {
  const items: { inbox: InboxRec; target: T; key: string }[] = [];
  const keys = new Set<string>();
  return {
    get size() {
      return items.length;
    },
    add(inbox, target) {
      const key = `${inbox.id}\u0000${target.id}`;
      if (keys.has(key)) return false;
      keys.add(key);
      items.push({ inbox, target, key });
      return true;
    },
    takeRandom(rng) {
      while (items.length > 0) {
        const i = Math.floor(rng.next() * items.length);
        const grant = items[i] as (typeof items)[number];
        items[i] = items[items.length - 1] as (typeof items)[number];
        items.pop();
        keys.delete(grant.key);
        if (grant.inbox.alive && grant.target.alive) return grant;
      }
      return null;
    },
  };
}

export interface AccountState {
  rng: Random;
  domain: string;
  /** last number used per kind: ids are never reused */
  counters: { user: number; role: number; queue: number; inbox: number };
  users: LiveList<UserRec>;
  roles: LiveList<RoleRec>;
  queues: LiveList<QueueRec>;
  inboxes: LiveList<InboxRec>;
  departments: readonly string[];
  inboxesByDept: Map<string, InboxRec[]>;
  emails: Map<string, number>;
  queueNames: Set<string>;
  inboxNames: Set<string>;
  userGrants: GrantList<UserRec>;
  queueGrants: GrantList<QueueRec>;
}

export function userDraft(u: UserRec): Draft {
  return {
    type: 'user.upserted',
    data: { user_id: u.id, display_name: `${u.first} ${u.last}`, user_email: u.email, user_access: u.active ? 'active' : 'inactive' },
  };
}

export function roleDraft(r: RoleRec): Draft {
  return { type: 'role.upserted', data: { role_id: r.id, role_name: r.name, privileges: r.privileges as string[] } };
}

export function queueDraft(q: QueueRec): Draft {
  return {
    type: 'queue.upserted',
    data: {
      cc_queue_id: q.id,
      queue_name: q.name,
      channel: q.channel,
      overflow_to_inbox_id: q.overflow?.id ?? null,
      recording: { automatic: q.automatic, ad_hoc: q.adHoc },
    },
  };
}

export function inboxDraft(i: InboxRec): Draft {
  return { type: 'inbox.upserted', data: { inbox_id: i.id, inbox_name: i.name } };
}

export function memberDraft(m: Membership, assigned: boolean): Draft {
  const data = { cc_queue_id: m.queue.id, user_id: m.user.id, member_type: m.type };
  return assigned ? { type: 'queue.member_assigned', data } : { type: 'queue.member_unassigned', data };
}
