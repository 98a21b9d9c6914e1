/**
 * The facts of one account, in memory, with the reverse indexes the rules need, and their flat
 * serialization: every fact is one (key, value) pair, so a store can keep an account as one hash and
 * persist an event's effect as a list of field writes.
 *
 * Relations are kept even when an end is not known yet (they wait for it); an end that was deleted
 * is remembered as a tombstone, and relations to it are dropped, now and when they arrive later.
 */
import type { InboxFact, MemberType, QueueFact, RoleFact, UserFact } from './model.ts';

export type EntityKind = 'user' | 'role' | 'queue' | 'inbox';

export interface AccountFacts {
  users: Map<string, UserFact>;
  roles: Map<string, RoleFact>;
  queues: Map<string, QueueFact>;
  inboxes: Map<string, InboxFact>;
  deleted: Record<EntityKind, Set<string>>;
  roleOf: Map<string, string>;
  usersOfRole: Map<string, Set<string>>;
  /** queue -> user -> member types */
  members: Map<string, Map<string, Set<MemberType>>>;
  /** user -> queue -> member types */
  queuesOf: Map<string, Map<string, Set<MemberType>>>;
  inboxUsers: Map<string, Set<string>>;
  userInboxes: Map<string, Set<string>>;
  inboxQueues: Map<string, Set<string>>;
  queueInboxes: Map<string, Set<string>>;
  /** inbox -> queues whose overflow_to_inbox_id is that inbox (derived from queues) */
  overflowQueues: Map<string, Set<string>>;
}

/** One field write of the flat form: value null deletes the field. */
export interface FactChange {
  key: string;
  value: string | null;
}

/** Separator inside flat keys; schemas/ rejects ids that contain it. */
export const SEP = '\u001f';

const ENTITY_PREFIX: Record<EntityKind, string> = { user: 'u', role: 'r', queue: 'q', inbox: 'i' };
/** The flat key of an entity's own data (`i␟<inbox id>`): the store's field, read by the API for names (decision 64). */
export const entityFactKey = (kind: EntityKind, id: string): string => `${ENTITY_PREFIX[kind]}${SEP}${id}`;
/** The flat key of an entity's tombstone (`x␟i␟<inbox id>`), in the facts and the raw facts alike. */
export const tombstoneKey = (kind: EntityKind, id: string): string => `x${SEP}${ENTITY_PREFIX[kind]}${SEP}${id}`;

/**
 * The flat keys of the relations (`ro␟<user>`, `m␟<queue>␟<user>␟<type>`, `gu␟<inbox>␟<user>`,
 * `gq␟<inbox>␟<queue>`), in the facts and the raw facts alike, and the prefixes a deletion ends
 * them by (every assignment of a role, one queue's members, one inbox's grants).
 */
export const relationKey = {
  roleOf: (userId: string): string => `ro${SEP}${userId}`,
  member: (queueId: string, userId: string, type: string): string => `m${SEP}${queueId}${SEP}${userId}${SEP}${type}`,
  userGrant: (inboxId: string, userId: string): string => `gu${SEP}${inboxId}${SEP}${userId}`,
  queueGrant: (inboxId: string, queueId: string): string => `gq${SEP}${inboxId}${SEP}${queueId}`,
  anyRoleOf: `ro${SEP}`,
  membersOf: (queueId: string): string => `m${SEP}${queueId}${SEP}`,
  userGrantsOf: (inboxId: string): string => `gu${SEP}${inboxId}${SEP}`,
  queueGrantsOf: (inboxId: string): string => `gq${SEP}${inboxId}${SEP}`,
};

const KIND_OF_PREFIX: Record<string, EntityKind> = { u: 'user', r: 'role', q: 'queue', i: 'inbox' };

function entityMap(facts: AccountFacts, kind: EntityKind): Map<string, unknown> {
  return kind === 'user' ? facts.users : kind === 'role' ? facts.roles : kind === 'queue' ? facts.queues : facts.inboxes;
}

export function emptyFacts(): AccountFacts {
  return {
    users: new Map(),
    roles: new Map(),
    queues: new Map(),
    inboxes: new Map(),
    deleted: { user: new Set(), role: new Set(), queue: new Set(), inbox: new Set() },
    roleOf: new Map(),
    usersOfRole: new Map(),
    members: new Map(),
    queuesOf: new Map(),
    inboxUsers: new Map(),
    userInboxes: new Map(),
    inboxQueues: new Map(),
    queueInboxes: new Map(),
    overflowQueues: new Map(),
  };
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

function addMemberIndex(map: Map<string, Map<string, Set<MemberType>>>, a: string, b: string, type: MemberType): void {
  let inner = map.get(a);
  if (!inner) map.set(a, (inner = new Map()));
  let types = inner.get(b);
  if (!types) inner.set(b, (types = new Set()));
  types.add(type);
}

function removeMemberIndex(map: Map<string, Map<string, Set<MemberType>>>, a: string, b: string, type: MemberType): void {
  const inner = map.get(a);
  const types = inner?.get(b);
  if (!inner || !types) return;
  types.delete(type);
  if (types.size === 0) inner.delete(b);
  if (inner.size === 0) map.delete(a);
}

function fact(key: string, value: string | null): FactChange {
  return { key, value };
}

/**
 * Every mutation of the facts goes through a writer, which keeps the indexes consistent and records
 * the flat changes (when `changes` is given) for the store to persist.
 */
// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createFactWriter(facts: AccountFacts, changes?: FactChange[]) {
  // No helper closures here: a writer is made per event, and each closure made per call costs its
  // allocation (and, through tsx's keepNames, a defineProperty) every time.
  return {
    setEntity(kind: EntityKind, id: string, value: UserFact | RoleFact | QueueFact | InboxFact): void {
      if (kind === 'queue') {
        const old = facts.queues.get(id);
        if (old?.overflow_to_inbox_id) removeFrom(facts.overflowQueues, old.overflow_to_inbox_id, id);
        const q = value as QueueFact;
        if (q.overflow_to_inbox_id) addTo(facts.overflowQueues, q.overflow_to_inbox_id, id);
      }
      entityMap(facts, kind).set(id, value);
      changes?.push(fact(entityFactKey(kind, id), JSON.stringify(value)));
    },
    /** Removes the entity for good: tombstone, and its own data. Relations are ended by the caller. */
    tombstone(kind: EntityKind, id: string): void {
      if (kind === 'queue') {
        const old = facts.queues.get(id);
        if (old?.overflow_to_inbox_id) removeFrom(facts.overflowQueues, old.overflow_to_inbox_id, id);
      }
      if (entityMap(facts, kind).delete(id)) changes?.push(fact(entityFactKey(kind, id), null));
      facts.deleted[kind].add(id);
      changes?.push(fact(tombstoneKey(kind, id), '1'));
    },
    setRole(userId: string, roleId: string): void {
      const old = facts.roleOf.get(userId);
      if (old === roleId) return;
      if (old !== undefined) removeFrom(facts.usersOfRole, old, userId);
      facts.roleOf.set(userId, roleId);
      addTo(facts.usersOfRole, roleId, userId);
      changes?.push(fact(relationKey.roleOf(userId), roleId));
    },
    clearRole(userId: string): void {
      const old = facts.roleOf.get(userId);
      if (old === undefined) return;
      removeFrom(facts.usersOfRole, old, userId);
      facts.roleOf.delete(userId);
      changes?.push(fact(relationKey.roleOf(userId), null));
    },
    addMember(queueId: string, userId: string, type: MemberType): void {
      if (facts.members.get(queueId)?.get(userId)?.has(type)) return;
      addMemberIndex(facts.members, queueId, userId, type);
      addMemberIndex(facts.queuesOf, userId, queueId, type);
      changes?.push(fact(relationKey.member(queueId, userId, type), '1'));
    },
    removeMember(queueId: string, userId: string, type: MemberType): void {
      if (!facts.members.get(queueId)?.get(userId)?.has(type)) return;
      removeMemberIndex(facts.members, queueId, userId, type);
      removeMemberIndex(facts.queuesOf, userId, queueId, type);
      changes?.push(fact(relationKey.member(queueId, userId, type), null));
    },
    addUserGrant(inboxId: string, userId: string): void {
      if (facts.inboxUsers.get(inboxId)?.has(userId)) return;
      addTo(facts.inboxUsers, inboxId, userId);
      addTo(facts.userInboxes, userId, inboxId);
      changes?.push(fact(relationKey.userGrant(inboxId, userId), '1'));
    },
    removeUserGrant(inboxId: string, userId: string): void {
      if (!facts.inboxUsers.get(inboxId)?.has(userId)) return;
      removeFrom(facts.inboxUsers, inboxId, userId);
      removeFrom(facts.userInboxes, userId, inboxId);
      changes?.push(fact(relationKey.userGrant(inboxId, userId), null));
    },
    addQueueGrant(inboxId: string, queueId: string): void {
      if (facts.inboxQueues.get(inboxId)?.has(queueId)) return;
      addTo(facts.inboxQueues, inboxId, queueId);
      addTo(facts.queueInboxes, queueId, inboxId);
      changes?.push(fact(relationKey.queueGrant(inboxId, queueId), '1'));
    },
    removeQueueGrant(inboxId: string, queueId: string): void {
      if (!facts.inboxQueues.get(inboxId)?.has(queueId)) return;
      removeFrom(facts.inboxQueues, inboxId, queueId);
      removeFrom(facts.queueInboxes, queueId, inboxId);
      changes?.push(fact(relationKey.queueGrant(inboxId, queueId), null));
    },
  };
}

export type FactWriter = ReturnType<typeof createFactWriter>;

/**
 * Rebuilds an account's facts from its flat form (as a store returns it), into `facts` when given
 * (a store read in pieces adds each piece in turn). Throws on a key it does not know: the flat form
 * is ours, so an unknown key means a corrupted or foreign store.
 */
export function loadFacts(flat: Iterable<readonly [string, string]>, facts: AccountFacts = emptyFacts()): AccountFacts {
  const w = createFactWriter(facts);
  for (const [key, value] of flat) {
    const parts = key.split(SEP);
    const [tag, a = '', b = '', c = ''] = parts;
    const kind = KIND_OF_PREFIX[tag ?? ''];
    if (kind && parts.length === 2) w.setEntity(kind, a, JSON.parse(value));
    else if (tag === 'x' && KIND_OF_PREFIX[a] && parts.length === 3) facts.deleted[KIND_OF_PREFIX[a]].add(b);
    else if (tag === 'ro' && parts.length === 2) w.setRole(a, value);
    else if (tag === 'm' && parts.length === 4) w.addMember(a, b, c as MemberType);
    else if (tag === 'gu' && parts.length === 3) w.addUserGrant(a, b);
    else if (tag === 'gq' && parts.length === 3) w.addQueueGrant(a, b);
    else throw new Error(`unknown fact key ${JSON.stringify(key)}`);
  }
  return facts;
}
