/**
 * Raw facts: what each topic itself says about its own keys, ignoring every other topic. A user's
 * deletion does not touch the memberships the queues topic asserts; a queue's deletion does not
 * touch the grants the inboxes topic asserts. Each raw key therefore changes only with events of
 * one topic, in that topic's order, so its history in event time is exact however the topics were
 * interleaved when they were applied; and the raw facts valid at an instant, read as facts
 * (relations count only while both ends exist), give the report as of that instant.
 */
import type { FactEvent } from './events.ts';
import { entityFactKey, type FactChange, relationKey, SEP, tombstoneKey } from './facts.ts';

/** Flat key -> value, in the same key format as the facts (projections/facts.ts). */
export type RawFacts = Map<string, string>;

/** One raw key's change, with the value it had (whose interval ends here). */
export interface RawChange extends FactChange {
  previous: string | undefined;
}

const K = {
  user: (id: string) => entityFactKey('user', id),
  role: (id: string) => entityFactKey('role', id),
  queue: (id: string) => entityFactKey('queue', id),
  inbox: (id: string) => entityFactKey('inbox', id),
  gone: tombstoneKey,
  ...relationKey,
};

function setRaw(raw: RawFacts, changes: RawChange[], key: string, value: string): void {
  const previous = raw.get(key);
  if (previous === value) return;
  raw.set(key, value);
  changes.push({ key, value, previous });
}

function delRaw(raw: RawFacts, changes: RawChange[], key: string): void {
  const previous = raw.get(key);
  if (previous === undefined) return;
  raw.delete(key);
  changes.push({ key, value: null, previous });
}

/** Deletes every raw fact under `prefix` (whose value is `value`, when given). */
function delRawWhere(raw: RawFacts, changes: RawChange[], prefix: string, value?: string): void {
  for (const [key, v] of [...raw]) if (key.startsWith(prefix) && (value === undefined || v === value)) delRaw(raw, changes, key);
}

// The helpers above are module functions, not closures: applyRaw runs once per event, and a closure
// made per call costs its allocation (and, through tsx's keepNames, a defineProperty) each time.
/**
 * Applies the event to the raw facts (in place) and returns the raw changes. Only keys of the
 * event's own topic change; deletions end the relations of the same topic (a deleted queue's
 * memberships, a deleted inbox's grants, a deleted role's assignments).
 */
// eslint-disable-next-line max-lines-per-function -- one case per event type, each a few lines
export function applyRaw(raw: RawFacts, event: FactEvent): RawChange[] {
  const changes: RawChange[] = [];
  switch (event.type) {
    case 'user.upserted': {
      const { user_id, display_name, user_email, user_access } = event.data;
      if (!raw.has(K.gone('user', user_id))) setRaw(raw, changes, K.user(user_id), JSON.stringify({ display_name, user_email, user_access }));
      break;
    }
    case 'user.deleted':
      delRaw(raw, changes, K.user(event.data.user_id));
      setRaw(raw, changes, K.gone('user', event.data.user_id), '1');
      break;
    case 'role.upserted': {
      const { role_id, role_name, privileges } = event.data;
      if (!raw.has(K.gone('role', role_id))) setRaw(raw, changes, K.role(role_id), JSON.stringify({ role_name, privileges: [...new Set(privileges)].sort() }));
      break;
    }
    case 'role.deleted':
      delRaw(raw, changes, K.role(event.data.role_id));
      setRaw(raw, changes, K.gone('role', event.data.role_id), '1');
      delRawWhere(raw, changes, K.anyRoleOf, event.data.role_id);
      break;
    case 'role.user_assigned':
      if (raw.has(K.gone('role', event.data.role_id))) delRaw(raw, changes, K.roleOf(event.data.user_id));
      else setRaw(raw, changes, K.roleOf(event.data.user_id), event.data.role_id);
      break;
    case 'role.user_unassigned':
      if (raw.get(K.roleOf(event.data.user_id)) === event.data.role_id) delRaw(raw, changes, K.roleOf(event.data.user_id));
      break;
    case 'queue.upserted': {
      const { cc_queue_id, queue_name, channel, overflow_to_inbox_id, recording } = event.data;
      if (!raw.has(K.gone('queue', cc_queue_id)))
        setRaw(
          raw,
          changes,
          K.queue(cc_queue_id),
          JSON.stringify({ queue_name, channel, overflow_to_inbox_id, recording: { automatic: recording.automatic, ad_hoc: recording.ad_hoc } }),
        );
      break;
    }
    case 'queue.deleted':
      delRaw(raw, changes, K.queue(event.data.cc_queue_id));
      setRaw(raw, changes, K.gone('queue', event.data.cc_queue_id), '1');
      delRawWhere(raw, changes, K.membersOf(event.data.cc_queue_id));
      break;
    case 'queue.member_assigned':
      if (!raw.has(K.gone('queue', event.data.cc_queue_id))) setRaw(raw, changes, K.member(event.data.cc_queue_id, event.data.user_id, event.data.member_type), '1');
      break;
    case 'queue.member_unassigned':
      delRaw(raw, changes, K.member(event.data.cc_queue_id, event.data.user_id, event.data.member_type));
      break;
    case 'inbox.upserted':
      if (!raw.has(K.gone('inbox', event.data.inbox_id))) setRaw(raw, changes, K.inbox(event.data.inbox_id), JSON.stringify({ inbox_name: event.data.inbox_name }));
      break;
    case 'inbox.deleted':
      delRaw(raw, changes, K.inbox(event.data.inbox_id));
      setRaw(raw, changes, K.gone('inbox', event.data.inbox_id), '1');
      delRawWhere(raw, changes, K.userGrantsOf(event.data.inbox_id));
      delRawWhere(raw, changes, K.queueGrantsOf(event.data.inbox_id));
      break;
    case 'inbox.user_granted':
      if (!raw.has(K.gone('inbox', event.data.inbox_id))) setRaw(raw, changes, K.userGrant(event.data.inbox_id, event.data.user_id), '1');
      break;
    case 'inbox.user_revoked':
      delRaw(raw, changes, K.userGrant(event.data.inbox_id, event.data.user_id));
      break;
    case 'inbox.queue_granted':
      if (!raw.has(K.gone('inbox', event.data.inbox_id))) setRaw(raw, changes, K.queueGrant(event.data.inbox_id, event.data.cc_queue_id), '1');
      break;
    case 'inbox.queue_revoked':
      delRaw(raw, changes, K.queueGrant(event.data.inbox_id, event.data.cc_queue_id));
      break;
    default: {
      const unknown: never = event;
      throw new Error(`no raw rule for ${JSON.stringify(unknown)}`);
    }
  }
  return changes;
}

/**
 * The entity a raw key is found through when one user's history is derived (the `subject` of its
 * fact intervals): the user for their own keys (profile, deletion, role assignment, memberships,
 * direct inbox grants), a queue for its settings, deletion and the grants to it, a role or an inbox
 * for its own.
 */
export function rawSubject(key: string): string {
  const [tag, a = '', b = ''] = key.split(SEP);
  switch (tag) {
    case 'u':
    case 'r':
    case 'q':
    case 'i':
      return `${tag}${SEP}${a}`;
    case 'x':
      return `${a}${SEP}${b}`;
    case 'ro':
      return entityFactKey('user', a);
    case 'm':
    case 'gu':
      return entityFactKey('user', b);
    case 'gq':
      return entityFactKey('queue', b);
    default:
      throw new Error(`unknown raw key ${JSON.stringify(key)}`);
  }
}

/** The subject of a user's own raw keys: where the search for their history starts. */
export const userSubject = (userId: string) => entityFactKey('user', userId);

/**
 * The subjects a raw fact leads to, for a user's derivation: a role assignment to the role, a
 * membership to the queue, a grant to the inbox, a queue's settings to its overflow inbox. Reading
 * every interval of the user's subject, then of the subjects those lead to, and so on, gives every
 * raw fact the user's documents were ever derived from.
 */
export function reachedSubjects(key: string, value: string): string[] {
  const [tag, a = '', b = ''] = key.split(SEP);
  switch (tag) {
    case 'ro':
      return [entityFactKey('role', value)];
    case 'm':
      return [entityFactKey('queue', a)];
    case 'gu':
      return [entityFactKey('inbox', a)];
    case 'gq':
      return [entityFactKey('inbox', a), entityFactKey('queue', b)];
    case 'q': {
      const overflow = (JSON.parse(value) as { overflow_to_inbox_id?: string | null }).overflow_to_inbox_id;
      return overflow ? [entityFactKey('inbox', overflow)] : [];
    }
    default:
      return [];
  }
}
