/**
 * deriveUser: the access rules of the contract's section 3, from one user's neighbourhood of facts
 * to the user's document with every entry and every path that grants it.
 */
import type { AccountFacts } from './facts.ts';
import { type AccessType, type Channel, type Entry, type MemberType, type Path, RECORDED_CHANNELS, type UserDoc, roleRecords } from './model.ts';

const MEMBER_ORDER: Record<MemberType, number> = { agent: 0, supervisor: 1 };

interface EntryDraft {
  access_type: AccessType;
  target: Entry['target'];
  paths: Path[];
}

function compare(a: string | null, b: string | null): number {
  const x = a ?? '';
  const y = b ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}

function comparePaths(a: Path, b: Path): number {
  return compare(a.rule, b.rule) || compare(a.queue_id, b.queue_id) || compare(a.member_type, b.member_type) || compare(a.role_id, b.role_id) || compare(a.channel, b.channel);
}

/** Builds an entry's derived fields (queues, channels) from its paths, sorted for stable output. */
export function finishEntry(draft: EntryDraft, queueName: (queueId: string) => string): Entry {
  const granted_by = [...draft.paths].sort(comparePaths);
  const queueIds = new Set<string>();
  const channels = new Set<Channel>();
  for (const p of granted_by) {
    if (p.queue_id !== null) queueIds.add(p.queue_id);
    channels.add(p.channel);
  }
  return {
    access_type: draft.access_type,
    target: draft.target,
    queues: [...queueIds].sort().map((id) => ({ id, name: queueName(id) })),
    channels: [...channels].sort(),
    granted_by,
  };
}

/** Orders entries by access type, then target id: the order every answer uses. */
export function compareEntries(a: Entry, b: Entry): number {
  return compare(a.access_type, b.access_type) || compare(a.target.type, b.target.type) || compare(a.target.id, b.target.id);
}

function addPath(drafts: Map<string, EntryDraft>, access_type: AccessType, targetType: 'inbox' | 'queue', id: string, name: string, path: Path): void {
  const key = `${access_type}\u001f${id}`;
  let draft = drafts.get(key);
  if (!draft) drafts.set(key, (draft = { access_type, target: { type: targetType, id, name }, paths: [] }));
  draft.paths.push(path);
}

/**
 * The user's document, or null when the user does not exist (never upserted, or deleted).
 * Only relations whose both ends exist count.
 */
// eslint-disable-next-line max-lines-per-function -- the contract's access rules one after another, with the helper they share
export function deriveUser(facts: AccountFacts, userId: string): UserDoc | null {
  const user = facts.users.get(userId);
  if (!user) return null;

  const drafts = new Map<string, EntryDraft>();

  // 1a: direct inbox grants.
  for (const inboxId of facts.userInboxes.get(userId) ?? []) {
    const inbox = facts.inboxes.get(inboxId);
    if (!inbox) continue;
    addPath(drafts, 'inbox', 'inbox', inboxId, inbox.inbox_name, {
      rule: 'inbox_user_grant',
      channel: 'voice',
      queue_id: null,
      role_id: null,
      member_type: null,
    });
  }

  const roleId = facts.roleOf.get(userId);
  const role = roleId === undefined ? undefined : facts.roles.get(roleId);
  const mayRecord = roleRecords(role);

  for (const [queueId, types] of facts.queuesOf.get(userId) ?? []) {
    const queue = facts.queues.get(queueId);
    if (!queue) continue;
    const channel = queue.channel;
    const recorded = RECORDED_CHANNELS.has(channel);
    const overflowInbox = queue.overflow_to_inbox_id === null ? undefined : facts.inboxes.get(queue.overflow_to_inbox_id);
    for (const member_type of [...types].sort((a, b) => MEMBER_ORDER[a] - MEMBER_ORDER[b])) {
      // 1b: inboxes granted to a queue reach its agents and supervisors.
      for (const inboxId of facts.queueInboxes.get(queueId) ?? []) {
        const inbox = facts.inboxes.get(inboxId);
        if (!inbox) continue;
        addPath(drafts, 'inbox', 'inbox', inboxId, inbox.inbox_name, {
          rule: 'inbox_queue_grant',
          channel,
          queue_id: queueId,
          role_id: null,
          member_type,
        });
      }
      // 2 and 1c: automatic recording, and with it the queue's inbox.
      if (queue.recording.automatic && recorded && mayRecord) {
        const path: Path = { rule: 'automatic_recording', channel, queue_id: queueId, role_id: roleId ?? null, member_type };
        addPath(drafts, 'automatic_call_recording', 'queue', queueId, queue.queue_name, path);
        if (overflowInbox && queue.overflow_to_inbox_id !== null)
          addPath(drafts, 'inbox', 'inbox', queue.overflow_to_inbox_id, overflowInbox.inbox_name, {
            ...path,
            rule: 'automatic_recording_inbox',
          });
      }
      // 3: ad hoc recording, agents only.
      if (queue.recording.ad_hoc && recorded && member_type === 'agent')
        addPath(drafts, 'ad_hoc_call_recording', 'queue', queueId, queue.queue_name, {
          rule: 'ad_hoc_recording',
          channel,
          queue_id: queueId,
          role_id: null,
          member_type,
        });
    }
  }

  // An anonymous function: a named one would be renamed (defineProperty) on every call under tsx's keepNames.
  const entries = [...drafts.values()].map((d) => finishEntry(d, (id) => facts.queues.get(id)?.queue_name ?? id)).sort(compareEntries);
  return {
    user_id: userId,
    display_name: user.display_name,
    user_email: user.user_email,
    user_access: user.user_access,
    entries,
  };
}
