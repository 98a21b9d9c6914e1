/**
 * Changes to the account's relations and deletions: each updates the generator's picture of the
 * account and pushes the events that say so. Deleting an entity ends its relations in the picture
 * (the projector does the same from the one `*.deleted` event), and its id is never used again.
 */
import type { MemberType } from '../../schemas/events.ts';
import { pickQueue } from './entities.ts';
import { memberDraft, queueDraft, type AccountState, type Draft, type InboxRec, type QueueRec, type RoleRec, type UserRec } from './model.ts';

/** Adds the membership unless the user already has it; false when nothing changed. */
export function assignMember(out: Draft[], user: UserRec, queue: QueueRec, type: MemberType): boolean {
  for (const m of user.memberships) if (m.queue === queue && m.type === type) return false;
  const membership = { user, queue, type };
  user.memberships.push(membership);
  queue.members.add(membership);
  out.push(memberDraft(membership, true));
  return true;
}

export function unassignMember(out: Draft[], user: UserRec, index: number): void {
  const [membership] = user.memberships.splice(index, 1);
  if (!membership) return;
  membership.queue.members.delete(membership);
  out.push(memberDraft(membership, false));
}

/** Puts the user in `count` more queues (skewed to big queues), as `type`. */
export function joinQueues(state: AccountState, out: Draft[], user: UserRec, type: MemberType, count: number): void {
  for (let added = 0, tries = 0; added < count && tries < count * 4; tries++) {
    const queue = pickQueue(state);
    if (queue && assignMember(out, user, queue, type)) added++;
  }
}

/** The queues a user joins for the role they hold (a user without a role takes one agent seat). */
export function seatUser(state: AccountState, out: Draft[], user: UserRec): void {
  const template = user.role?.template;
  if (template === undefined) {
    joinQueues(state, out, user, 'agent', 1);
    return;
  }
  for (const plan of template.membership) {
    if (state.rng.chance(plan.chance)) joinQueues(state, out, user, plan.type, weightedCount(state, plan.min, plan.max));
  }
}

/** The direct inbox grants a user gets for the role they hold. */
export function grantUserInboxes(state: AccountState, out: Draft[], user: UserRec): void {
  const grants = user.role?.template.inboxGrants;
  if (grants === undefined || grants.max === 0 || !state.rng.chance(grants.chance)) return;
  const count = state.rng.int(1, grants.max);
  for (let i = 0; i < count; i++) grantInboxToUser(state, out, user);
}

/** Between min and max, small numbers more likely (most agents serve one or two queues). */
function weightedCount(state: AccountState, min: number, max: number): number {
  const r = state.rng.next();
  return min + Math.floor(r * r * (max - min + 1));
}

export function grantInboxToUser(state: AccountState, out: Draft[], user: UserRec): void {
  const inbox = state.inboxes.items.length === 0 ? null : state.rng.pick(state.inboxes.items);
  if (inbox && state.userGrants.add(inbox, user)) {
    out.push({ type: 'inbox.user_granted', data: { inbox_id: inbox.id, user_id: user.id } });
  }
}

/** Grants the queue its own overflow inbox most of the time (so its members hear their voicemail). */
export function grantInboxToQueue(state: AccountState, out: Draft[], queue: QueueRec): void {
  const { rng, inboxes } = state;
  const inbox = queue.overflow && rng.chance(0.6) ? queue.overflow : inboxes.items.length === 0 ? null : rng.pick(inboxes.items);
  if (inbox && state.queueGrants.add(inbox, queue)) {
    out.push({ type: 'inbox.queue_granted', data: { inbox_id: inbox.id, cc_queue_id: queue.id } });
  }
}

/** `role.user_assigned` replaces any earlier role. */
export function assignRole(out: Draft[], user: UserRec, role: RoleRec): void {
  if (user.role) user.role.size--;
  user.role = role;
  role.size++;
  out.push({ type: 'role.user_assigned', data: { role_id: role.id, user_id: user.id } });
}

export function unassignRole(out: Draft[], user: UserRec): void {
  const role = user.role;
  if (!role) return;
  role.size--;
  user.role = null;
  out.push({ type: 'role.user_unassigned', data: { role_id: role.id, user_id: user.id } });
}

export function deleteUser(state: AccountState, out: Draft[], user: UserRec): void {
  for (const m of user.memberships) m.queue.members.delete(m);
  user.memberships = [];
  if (user.role) user.role.size--;
  user.role = null;
  state.users.remove(user);
  out.push({ type: 'user.deleted', data: { user_id: user.id } });
}

export function deleteQueue(state: AccountState, out: Draft[], queue: QueueRec): void {
  for (const m of queue.members) {
    const at = m.user.memberships.indexOf(m);
    if (at >= 0) m.user.memberships.splice(at, 1);
  }
  queue.members.clear();
  state.queues.remove(queue);
  out.push({ type: 'queue.deleted', data: { cc_queue_id: queue.id } });
}

/** Deletes the inbox; queues that overflowed to it are saved again without an overflow inbox. */
export function deleteInbox(state: AccountState, out: Draft[], inbox: InboxRec): void {
  state.inboxes.remove(inbox);
  out.push({ type: 'inbox.deleted', data: { inbox_id: inbox.id } });
  for (const queue of state.queues.items) {
    if (queue.overflow !== inbox) continue;
    queue.overflow = null;
    out.push(queueDraft(queue));
  }
}

export function deleteRole(state: AccountState, out: Draft[], role: RoleRec): void {
  // Rare and only for small custom roles, so a scan of the users is fine.
  for (const user of state.users.items) if (user.role === role) user.role = null;
  role.size = 0;
  state.roles.remove(role);
  out.push({ type: 'role.deleted', data: { role_id: role.id } });
}
