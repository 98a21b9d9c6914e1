/**
 * apply: one event's effect on an account's facts, as the contract's section 2 defines it, and the
 * users whose documents it may change.
 *
 * The facts are mutated in place (an account can hold hundreds of thousands of facts; copying them
 * per event would dominate the projector). The effect is also returned as flat changes for the store.
 */
import type { FactEvent } from './events.ts';
import { type AccountFacts, type FactChange, createFactWriter } from './facts.ts';

/**
 * Applies one event to the facts (in place) and returns its effect as flat changes.
 * Upserts replace; a deleted entity is final and ends every relation to it, including relations
 * that arrive later; a relation to an entity not yet known is kept until the entity arrives.
 */
// eslint-disable-next-line max-lines-per-function -- one case per event type, each a few lines
export function applyEvent(facts: AccountFacts, event: FactEvent): FactChange[] {
  const changes: FactChange[] = [];
  const w = createFactWriter(facts, changes);
  const gone = facts.deleted;

  switch (event.type) {
    case 'user.upserted': {
      const { user_id, display_name, user_email, user_access } = event.data;
      if (gone.user.has(user_id)) break;
      w.setEntity('user', user_id, { display_name, user_email, user_access });
      break;
    }
    case 'user.deleted': {
      const { user_id } = event.data;
      w.clearRole(user_id);
      for (const [queueId, types] of [...(facts.queuesOf.get(user_id) ?? [])]) for (const type of [...types]) w.removeMember(queueId, user_id, type);
      for (const inboxId of [...(facts.userInboxes.get(user_id) ?? [])]) w.removeUserGrant(inboxId, user_id);
      if (!gone.user.has(user_id)) w.tombstone('user', user_id);
      break;
    }
    case 'role.upserted': {
      const { role_id, role_name, privileges } = event.data;
      if (gone.role.has(role_id)) break;
      w.setEntity('role', role_id, { role_name, privileges: [...new Set(privileges)].sort() });
      break;
    }
    case 'role.deleted': {
      const { role_id } = event.data;
      for (const userId of [...(facts.usersOfRole.get(role_id) ?? [])]) w.clearRole(userId);
      if (!gone.role.has(role_id)) w.tombstone('role', role_id);
      break;
    }
    case 'role.user_assigned': {
      const { role_id, user_id } = event.data;
      if (gone.user.has(user_id)) break;
      // One role per user: the assignment replaces the earlier role even when the new role is
      // deleted, which leaves the user with no role.
      if (gone.role.has(role_id)) w.clearRole(user_id);
      else w.setRole(user_id, role_id);
      break;
    }
    case 'role.user_unassigned': {
      const { role_id, user_id } = event.data;
      if (facts.roleOf.get(user_id) === role_id) w.clearRole(user_id);
      break;
    }
    case 'queue.upserted': {
      const { cc_queue_id, queue_name, channel, overflow_to_inbox_id, recording } = event.data;
      if (gone.queue.has(cc_queue_id)) break;
      w.setEntity('queue', cc_queue_id, {
        queue_name,
        channel,
        overflow_to_inbox_id,
        recording: { automatic: recording.automatic, ad_hoc: recording.ad_hoc },
      });
      break;
    }
    case 'queue.deleted': {
      const { cc_queue_id } = event.data;
      for (const [userId, types] of [...(facts.members.get(cc_queue_id) ?? [])]) for (const type of [...types]) w.removeMember(cc_queue_id, userId, type);
      for (const inboxId of [...(facts.queueInboxes.get(cc_queue_id) ?? [])]) w.removeQueueGrant(inboxId, cc_queue_id);
      if (!gone.queue.has(cc_queue_id)) w.tombstone('queue', cc_queue_id);
      break;
    }
    case 'queue.member_assigned': {
      const { cc_queue_id, user_id, member_type } = event.data;
      if (gone.queue.has(cc_queue_id) || gone.user.has(user_id)) break;
      w.addMember(cc_queue_id, user_id, member_type);
      break;
    }
    case 'queue.member_unassigned': {
      const { cc_queue_id, user_id, member_type } = event.data;
      w.removeMember(cc_queue_id, user_id, member_type);
      break;
    }
    case 'inbox.upserted': {
      const { inbox_id, inbox_name } = event.data;
      if (gone.inbox.has(inbox_id)) break;
      w.setEntity('inbox', inbox_id, { inbox_name });
      break;
    }
    case 'inbox.deleted': {
      const { inbox_id } = event.data;
      for (const userId of [...(facts.inboxUsers.get(inbox_id) ?? [])]) w.removeUserGrant(inbox_id, userId);
      for (const queueId of [...(facts.inboxQueues.get(inbox_id) ?? [])]) w.removeQueueGrant(inbox_id, queueId);
      if (!gone.inbox.has(inbox_id)) w.tombstone('inbox', inbox_id);
      break;
    }
    case 'inbox.user_granted': {
      const { inbox_id, user_id } = event.data;
      if (gone.inbox.has(inbox_id) || gone.user.has(user_id)) break;
      w.addUserGrant(inbox_id, user_id);
      break;
    }
    case 'inbox.user_revoked': {
      const { inbox_id, user_id } = event.data;
      w.removeUserGrant(inbox_id, user_id);
      break;
    }
    case 'inbox.queue_granted': {
      const { inbox_id, cc_queue_id } = event.data;
      if (gone.inbox.has(inbox_id) || gone.queue.has(cc_queue_id)) break;
      w.addQueueGrant(inbox_id, cc_queue_id);
      break;
    }
    case 'inbox.queue_revoked': {
      const { inbox_id, cc_queue_id } = event.data;
      w.removeQueueGrant(inbox_id, cc_queue_id);
      break;
    }
    default: {
      const unknown: never = event;
      throw new Error(`no rule for event ${JSON.stringify(unknown)}`);
    }
  }
  return changes;
}
