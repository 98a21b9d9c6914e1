/**
 * affectedUsers: the users whose document an event may change, read from the facts before the event
 * is applied (so the projector can derive their old documents first). A superset of the users whose
 * document changes, and not much more: a role change reaches only that role's users, and only
 * when it changes what the role means to a document (whether it gives recordings); an upsert that
 * changes nothing a document shows (a privilege that is not a recording one, a queue's recording
 * flags on a channel without recording) reaches no one.
 *
 * With `{ names: false }` it is the users whose document may change other than by a name: a queue
 * or inbox renamed reaches no one (the projector stores no names: decision 64).
 */
import type { FactEvent } from './events.ts';
import type { AccountFacts } from './facts.ts';
import { type QueueFact, RECORDED_CHANNELS, roleRecords } from './model.ts';

/** What of a queue its members' documents show (deriveUser): two queues alike here derive alike. */
function queueShown(queue: QueueFact, names: boolean): string {
  const recorded = RECORDED_CHANNELS.has(queue.channel);
  const automatic = recorded && queue.recording.automatic;
  return JSON.stringify([names ? queue.queue_name : '', queue.channel, automatic, recorded && queue.recording.ad_hoc, automatic ? queue.overflow_to_inbox_id : null]);
}

export interface AffectedOptions {
  /** whether a name is part of the document (true: the contract's document; false: the stored one, decision 64) */
  names?: boolean;
}

function membersOf(facts: AccountFacts, queueId: string, into: Set<string>): void {
  for (const userId of facts.members.get(queueId)?.keys() ?? []) into.add(userId);
}

/** Users that reach inbox `inboxId` by any path, or would once it exists. */
function usersNearInbox(facts: AccountFacts, inboxId: string, into: Set<string>): void {
  for (const userId of facts.inboxUsers.get(inboxId) ?? []) into.add(userId);
  for (const queueId of facts.inboxQueues.get(inboxId) ?? []) membersOf(facts, queueId, into);
  for (const queueId of facts.overflowQueues.get(inboxId) ?? []) membersOf(facts, queueId, into);
}

/** Users whose document may differ once `event` is applied to `facts` (call before applying). */
export function affectedUsers(facts: AccountFacts, event: FactEvent, options: AffectedOptions = {}): Set<string> {
  const names = options.names ?? true;
  const out = new Set<string>();
  const gone = facts.deleted;
  switch (event.type) {
    case 'user.upserted':
    case 'user.deleted':
    case 'role.user_unassigned':
    case 'queue.member_unassigned':
    case 'inbox.user_revoked':
      out.add(event.data.user_id);
      break;
    // A relation that arrives for a deleted end is dropped: it changes nobody.
    case 'role.user_assigned':
      if (!gone.user.has(event.data.user_id)) out.add(event.data.user_id);
      break;
    case 'queue.member_assigned':
      if (!gone.user.has(event.data.user_id) && !gone.queue.has(event.data.cc_queue_id)) out.add(event.data.user_id);
      break;
    case 'inbox.user_granted':
      if (!gone.user.has(event.data.user_id) && !gone.inbox.has(event.data.inbox_id)) out.add(event.data.user_id);
      break;
    // A role means one thing to its holders' documents: whether it gives recordings (an upsert of a
    // deleted role is dropped; a role deleted or never known gives none).
    case 'role.upserted':
      if (!gone.role.has(event.data.role_id) && roleRecords(facts.roles.get(event.data.role_id)) !== roleRecords(event.data))
        for (const userId of facts.usersOfRole.get(event.data.role_id) ?? []) out.add(userId);
      break;
    case 'role.deleted':
      if (roleRecords(facts.roles.get(event.data.role_id))) for (const userId of facts.usersOfRole.get(event.data.role_id) ?? []) out.add(userId);
      break;
    case 'queue.upserted': {
      const before = facts.queues.get(event.data.cc_queue_id);
      if (gone.queue.has(event.data.cc_queue_id) || (before && queueShown(before, names) === queueShown(event.data, names))) break;
      membersOf(facts, event.data.cc_queue_id, out);
      break;
    }
    case 'queue.deleted':
      membersOf(facts, event.data.cc_queue_id, out);
      break;
    case 'inbox.upserted': {
      // An inbox's document shows its name only: once it exists, an upsert renames it at most.
      const before = facts.inboxes.get(event.data.inbox_id);
      if (gone.inbox.has(event.data.inbox_id) || (before && (!names || before.inbox_name === event.data.inbox_name))) break;
      usersNearInbox(facts, event.data.inbox_id, out);
      break;
    }
    case 'inbox.deleted':
      usersNearInbox(facts, event.data.inbox_id, out);
      break;
    case 'inbox.queue_granted':
    case 'inbox.queue_revoked':
      if (!gone.inbox.has(event.data.inbox_id) && !gone.queue.has(event.data.cc_queue_id)) membersOf(facts, event.data.cc_queue_id, out);
      break;
    default: {
      const unknown: never = event;
      throw new Error(`no rule for event ${JSON.stringify(unknown)}`);
    }
  }
  return out;
}
