/**
 * The second phase of an account's history: day-to-day changes, in realistic proportions.
 * Queue membership moves dominate; role privilege changes are rare but can reach thousands of users.
 */
import { emailFor, inboxForDept, inboxNameFor, newInbox, newQueue, newRole, newUser, pickQueue, pickRoleFor, pickUser, queueNameFor } from './entities.ts';
import { type AccountState, type Draft, inboxDraft, queueDraft, roleDraft, userDraft } from './model.ts';
import { LAST_NAMES, splitName } from './names.ts';
import {
  assignMember,
  assignRole,
  deleteInbox,
  deleteQueue,
  deleteRole,
  deleteUser,
  grantInboxToQueue,
  grantInboxToUser,
  grantUserInboxes,
  joinQueues,
  seatUser,
  unassignMember,
  unassignRole,
} from './relations.ts';
import { CUSTOM_ROLE_NAMES, customPrivileges, customTemplate, OTHER_PRIVILEGES, RECORDING, ROLE_TEMPLATES } from './roles.ts';

type Action = (state: AccountState, out: Draft[]) => void;

function membership(state: AccountState, out: Draft[]): void {
  const { rng } = state;
  const user = pickUser(state);
  if (!user) return;
  const supervises = user.role?.template.supervises ?? false;
  const count = user.memberships.length;
  const max = supervises ? 8 : 4;
  const assign = count === 0 || (count < max && rng.chance(count === 1 ? 0.7 : 0.45));
  if (assign) {
    const type = rng.chance(supervises ? 0.9 : 0.03) ? 'supervisor' : 'agent';
    joinQueues(state, out, user, type, 1);
  } else {
    unassignMember(out, user, rng.int(0, count - 1));
  }
}

function roleChange(state: AccountState, out: Draft[]): void {
  const user = pickUser(state);
  if (!user) return;
  if (user.role && state.rng.chance(0.08)) return unassignRole(out, user);
  const role = pickRoleFor(state, user.role);
  if (role) assignRole(out, user, role);
}

function profileChange(state: AccountState, out: Draft[]): void {
  const { rng } = state;
  const user = pickUser(state);
  if (!user) return;
  const r = rng.next();
  // Reactivations are common, deactivations rare: about one user in ten stays inactive.
  if (!user.active ? r < 0.5 : r < 0.05) {
    user.active = !user.active;
  } else if (r < 0.7) {
    const last = splitName(rng.pick(LAST_NAMES));
    user.last = last.display;
    user.lastAscii = last.ascii;
    user.email = emailFor(state, user.firstAscii, user.lastAscii);
  } else {
    // Moved to a mail subdomain: same local part.
    user.email = `${user.email.slice(0, user.email.indexOf('@'))}@${rng.pick(['support', 'cc', 'mail'])}.${state.domain}`;
  }
  out.push(userDraft(user));
}

function userGrant(state: AccountState, out: Draft[]): void {
  const grant = state.rng.chance(0.42) ? state.userGrants.takeRandom(state.rng) : null;
  if (grant) {
    out.push({ type: 'inbox.user_revoked', data: { inbox_id: grant.inbox.id, user_id: grant.target.id } });
    return;
  }
  const user = pickUser(state);
  if (user) grantInboxToUser(state, out, user);
}

function queueGrant(state: AccountState, out: Draft[]): void {
  const grant = state.rng.chance(0.4) ? state.queueGrants.takeRandom(state.rng) : null;
  if (grant) {
    out.push({ type: 'inbox.queue_revoked', data: { inbox_id: grant.inbox.id, cc_queue_id: grant.target.id } });
    return;
  }
  const queue = pickQueue(state);
  if (queue) grantInboxToQueue(state, out, queue);
}

function queueChange(state: AccountState, out: Draft[]): void {
  const { rng } = state;
  const queue = state.queues.items.length === 0 ? null : rng.pick(state.queues.items);
  if (!queue) return;
  const r = rng.next();
  if (r < 0.3) queue.name = queueNameFor(state, queue.dept, queue.channel);
  else if (r < 0.55) queue.automatic = !queue.automatic;
  else if (r < 0.75) queue.adHoc = !queue.adHoc;
  else queue.overflow = queue.overflow && rng.chance(0.4) ? null : inboxForDept(state, queue.dept);
  out.push(queueDraft(queue));
}

function inboxRename(state: AccountState, out: Draft[]): void {
  const inbox = state.inboxes.items.length === 0 ? null : state.rng.pick(state.inboxes.items);
  if (!inbox) return;
  inbox.name = state.rng.chance(0.2) ? `${inbox.name} (old)` : inboxNameFor(state, inbox.dept);
  out.push(inboxDraft(inbox));
}

function hire(state: AccountState, out: Draft[]): void {
  const user = newUser(state);
  out.push(userDraft(user));
  const role = state.rng.chance(0.97) ? pickRoleFor(state) : null;
  if (role) assignRole(out, user, role);
  seatUser(state, out, user);
  grantUserInboxes(state, out, user);
}

function leave(state: AccountState, out: Draft[]): void {
  // Keep a center from emptying out: leavers are replaced by hires at about the same pace.
  if (state.users.items.length <= 2) return;
  // Offboarding usually deactivates first: prefer an inactive user.
  let user = pickUser(state);
  for (let tries = 0; user?.active && tries < 4; tries++) user = pickUser(state);
  if (user) deleteUser(state, out, user);
}

function openQueue(state: AccountState, out: Draft[]): void {
  const { rng } = state;
  const queue = newQueue(state);
  out.push(queueDraft(queue));
  if (rng.chance(0.4)) grantInboxToQueue(state, out, queue);
  const seats = rng.int(2, 8);
  for (let i = 0; i < seats; i++) {
    const user = pickUser(state);
    if (user) assignMember(out, user, queue, user.role?.template.supervises ? 'supervisor' : 'agent');
  }
}

function closeQueue(state: AccountState, out: Draft[]): void {
  if (state.queues.items.length > 1) deleteQueue(state, out, state.rng.pick(state.queues.items));
}

function openInbox(state: AccountState, out: Draft[]): void {
  const inbox = newInbox(state);
  out.push(inboxDraft(inbox));
  const queue = pickQueue(state);
  if (queue && queue.overflow === null && inbox.dept === queue.dept) {
    queue.overflow = inbox;
    out.push(queueDraft(queue));
  }
}

function closeInbox(state: AccountState, out: Draft[]): void {
  if (state.inboxes.items.length > 1) deleteInbox(state, out, state.rng.pick(state.inboxes.items));
}

/**
 * Adds or removes one privilege. The Agent role only changes privileges that do not reach
 * recordings here (its recording change is the pilot); the other roles toggle any privilege.
 */
function privilegeChange(state: AccountState, out: Draft[]): void {
  const { rng, roles } = state;
  const agent = roles.items.find((role) => role.template === ROLE_TEMPLATES[0]);
  const role = agent && rng.chance(0.15) ? agent : rng.pick(roles.items);
  const recording = role !== agent && rng.chance(0.5);
  const privilege = recording ? rng.pick(Object.values(RECORDING)) : rng.pick(OTHER_PRIVILEGES);
  role.privileges = role.privileges.includes(privilege) ? role.privileges.filter((p) => p !== privilege) : [...role.privileges, privilege];
  out.push(roleDraft(role));
}

/**
 * The recording pilot: agents get (then lose) access to call recordings, so every holder of the
 * Agent role gains (then loses) Automatic Call Recording on the recorded queues they serve.
 * Nothing when the role already is in that state.
 */
export function recordingPilot(state: AccountState, out: Draft[], on: boolean): void {
  const agent = state.roles.items.find((role) => role.template === ROLE_TEMPLATES[0]);
  if (!agent || agent.privileges.includes(RECORDING.access) === on) return;
  agent.privileges = on ? [...agent.privileges, RECORDING.access] : agent.privileges.filter((p) => p !== RECORDING.access);
  out.push(roleDraft(agent));
}

function createCustomRole(state: AccountState, out: Draft[]): void {
  const { rng } = state;
  const taken = new Set(state.roles.items.map((role) => role.name));
  const name = CUSTOM_ROLE_NAMES.find((candidate) => !taken.has(candidate));
  if (name === undefined) return;
  const privileges = customPrivileges(rng);
  const role = newRole(state, customTemplate(name, privileges), name, privileges);
  out.push(roleDraft(role));
  for (let i = rng.int(2, 8); i > 0; i--) {
    const user = pickUser(state);
    if (user && user.role !== role) assignRole(out, user, role);
  }
}

function deleteCustomRole(state: AccountState, out: Draft[]): void {
  const role = state.roles.items.find((candidate) => !candidate.template.core && candidate.size <= 50);
  if (role) deleteRole(state, out, role);
}

/** Actions by weight: what share of the churn starts with each (follow-up events come with it). */
const ACTIONS: readonly (readonly [Action, number])[] = [
  [membership, 600],
  [profileChange, 75],
  [roleChange, 70],
  [userGrant, 65],
  [queueGrant, 30],
  [queueChange, 30],
  [hire, 16],
  [leave, 13],
  [inboxRename, 10],
  [openQueue, 1],
  [closeQueue, 0.7],
  [openInbox, 0.5],
  [closeInbox, 0.35],
  [privilegeChange, 0.4],
  [createCustomRole, 0.1],
  [deleteCustomRole, 0.08],
];

/**
 * One change (one or a few events) into `out`. A change that finds nothing to do (no grant to
 * revoke, a last queue to keep) becomes a profile update, so tiny centers do not grow from it.
 */
export function churnStep(state: AccountState, out: Draft[]): void {
  state.rng.weighted(ACTIONS)(state, out);
  if (out.length === 0) profileChange(state, out);
  if (out.length === 0) hire(state, out);
}
