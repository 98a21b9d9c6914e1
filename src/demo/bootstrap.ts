/**
 * The first phase of an account's history: the center being set up, as an import would do it.
 * Inboxes, queues, roles, users, role assignments, queue memberships, then inbox grants.
 */
import { newInbox, newQueue, newRole, newUser, pickRoleFor } from './entities.ts';
import { type AccountState, type Draft, inboxDraft, queueDraft, roleDraft, userDraft } from './model.ts';
import { assignRole, grantInboxToQueue, grantUserInboxes, seatUser } from './relations.ts';
import { CUSTOM_ROLE_NAMES, customPrivileges, customTemplate, ROLE_TEMPLATES } from './roles.ts';

export interface BootstrapSizes {
  agents: number;
  queues: number;
  inboxes: number;
  roles: number;
}

/** A rough count of the events `bootstrap` yields (it paces the account's clock). */
export function estimateBootstrap(sizes: BootstrapSizes): number {
  return sizes.inboxes + sizes.roles + 1.35 * sizes.queues + 4.6 * sizes.agents;
}

export function* bootstrap(state: AccountState, sizes: BootstrapSizes): Generator<Draft> {
  const { rng } = state;
  for (let i = 0; i < sizes.inboxes; i++) yield inboxDraft(newInbox(state));
  // The first queues are the center's main voice lines: one records every call, one lets agents
  // record on demand. They are also the busiest (pickQueue favours old queues).
  const mainLines = [
    { channel: 'voice', automatic: true },
    { channel: 'voice', adHoc: true },
  ] as const;
  for (let i = 0; i < sizes.queues; i++) yield queueDraft(newQueue(state, mainLines[i]));
  for (let i = 0; i < sizes.roles; i++) {
    const template = ROLE_TEMPLATES[i];
    if (template) {
      yield roleDraft(newRole(state, template));
    } else {
      const name = CUSTOM_ROLE_NAMES[(i - ROLE_TEMPLATES.length) % CUSTOM_ROLE_NAMES.length] as string;
      const privileges = customPrivileges(rng);
      yield roleDraft(newRole(state, customTemplate(name, privileges), name, privileges));
    }
  }
  for (let i = 0; i < sizes.agents; i++) yield userDraft(newUser(state));

  const out: Draft[] = [];
  const users = state.users.items;
  for (const user of users) {
    // A few users are waiting for a role (new hires, service accounts).
    const role = rng.chance(0.99) ? pickRoleFor(state) : null;
    if (role) assignRole(out, user, role);
  }
  yield* drain(out);
  for (const user of users) {
    seatUser(state, out, user);
    yield* drain(out);
  }
  for (const user of users) {
    grantUserInboxes(state, out, user);
    yield* drain(out);
  }
  for (const queue of state.queues.items) {
    if (rng.chance(0.35)) grantInboxToQueue(state, out, queue);
  }
  yield* drain(out);
}

/** Yields the drafts and empties the buffer. */
export function* drain(out: Draft[]): Generator<Draft> {
  for (let i = 0; i < out.length; i++) yield out[i] as Draft;
  out.length = 0;
}
