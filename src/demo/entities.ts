/**
 * Making new users, roles, queues and inboxes with realistic names, and picking existing ones the
 * way real traffic does (old, big queues get more members than new ones).
 */
import type { Channel } from '../../schemas/events.ts';
import { createGrantList, createLiveList, type AccountState, type InboxRec, type QueueRec, type RoleRec, type UserRec } from './model.ts';
import { asciiFold, DEPARTMENTS, FIRST_NAMES, LAST_NAMES, MESSAGING_SUFFIXES, QUALIFIERS, REGIONS, SHARED_INBOXES, splitName } from './names.ts';
import type { Random } from './random.ts';
import type { RoleTemplate } from './roles.ts';

export function createAccountState(rng: Random, domain: string, queues: number): AccountState {
  // About four queues per department, so that names repeat the way they do in real centers.
  const deptCount = Math.min(DEPARTMENTS.length, Math.max(3, Math.ceil(queues / 4)));
  return {
    rng,
    domain,
    counters: { user: 0, role: 0, queue: 0, inbox: 0 },
    users: createLiveList(),
    roles: createLiveList(),
    queues: createLiveList(),
    inboxes: createLiveList(),
    departments: rng.shuffle([...DEPARTMENTS]).slice(0, deptCount),
    inboxesByDept: new Map(),
    emails: new Map(),
    queueNames: new Set(),
    inboxNames: new Set(),
    userGrants: createGrantList(),
    queueGrants: createGrantList(),
  };
}

/** `first.last@domain`, with a number from the second holder on, as mail systems do. */
export function emailFor(state: AccountState, firstAscii: string, lastAscii: string): string {
  const base = `${asciiFold(firstAscii)}.${asciiFold(lastAscii)}`;
  const seen = (state.emails.get(base) ?? 0) + 1;
  state.emails.set(base, seen);
  return `${seen === 1 ? base : `${base}${seen}`}@${state.domain}`;
}

export function newUser(state: AccountState): UserRec {
  const { rng } = state;
  const first = splitName(rng.pick(FIRST_NAMES));
  const last = splitName(rng.pick(LAST_NAMES));
  return state.users.add({
    id: `u_${++state.counters.user}`,
    pos: 0,
    alive: true,
    first: first.display,
    last: last.display,
    firstAscii: first.ascii,
    lastAscii: last.ascii,
    email: emailFor(state, first.ascii, last.ascii),
    active: rng.chance(0.96),
    role: null,
    memberships: [],
  });
}

export function newRole(state: AccountState, template: RoleTemplate, name = template.name, privileges = template.privileges): RoleRec {
  return state.roles.add({ id: `r_${++state.counters.role}`, pos: 0, alive: true, name, privileges, template, size: 0 });
}

/** A name not used yet in the account: tries the natural forms first, then numbers them. */
function uniqueName(used: Set<string>, candidates: () => string): string {
  for (let attempt = 0; attempt < 8; attempt++) {
    const name = candidates();
    if (!used.has(name)) {
      used.add(name);
      return name;
    }
  }
  const stem = candidates();
  for (let n = 2; ; n++) {
    const name = `${stem} ${n}`;
    if (!used.has(name)) {
      used.add(name);
      return name;
    }
  }
}

export function queueNameFor(state: AccountState, dept: string, channel: Channel): string {
  const { rng } = state;
  return uniqueName(state.queueNames, () => {
    const region = rng.chance(0.25) ? ` (${rng.pick(REGIONS)})` : '';
    switch (channel) {
      case 'messaging':
        return `${dept} – ${rng.pick(MESSAGING_SUFFIXES)}${region}`;
      case 'email':
        return `${dept} – Email${region}`;
      case 'video':
        return `${dept} – Video${rng.chance(0.5) ? ` ${rng.pick(QUALIFIERS)}` : ''}${region}`;
      default:
        return `${dept} – ${rng.pick(QUALIFIERS)}${region}`;
    }
  });
}

const CHANNEL_WEIGHTS: readonly (readonly [Channel, number])[] = [
  ['voice', 55],
  ['messaging', 25],
  ['email', 12],
  ['video', 8],
];

/** Settings a queue must have (the main line of a center records its calls). */
export type QueueSettings = Partial<Pick<QueueRec, 'channel' | 'automatic' | 'adHoc'>>;

export function newQueue(state: AccountState, settings: QueueSettings = {}): QueueRec {
  const { rng } = state;
  const channel = settings.channel ?? rng.weighted(CHANNEL_WEIGHTS);
  const dept = rng.pick(state.departments);
  const recorded = channel === 'voice' || channel === 'video';
  // Recording flags on chat and email queues do nothing (rule 6), but real configs carry them.
  const automatic = settings.automatic ?? (recorded ? rng.chance(channel === 'voice' ? 0.7 : 0.5) : rng.chance(0.08));
  const adHoc = settings.adHoc ?? (recorded ? rng.chance(channel === 'voice' ? 0.35 : 0.3) : rng.chance(0.05));
  const overflow = rng.chance(recorded ? 0.6 : 0.1) ? inboxForDept(state, dept) : null;
  return state.queues.add({
    id: `q_${++state.counters.queue}`,
    pos: 0,
    alive: true,
    name: queueNameFor(state, dept, channel),
    dept,
    channel,
    overflow,
    automatic,
    adHoc,
    members: new Set(),
  });
}

export function inboxNameFor(state: AccountState, dept: string | null): string {
  const { rng } = state;
  return uniqueName(state.inboxNames, () => {
    if (dept === null) return rng.pick(SHARED_INBOXES);
    if (!state.inboxNames.has(`${dept} voicemail`)) return `${dept} voicemail`;
    return rng.chance(0.6) ? `${dept} – ${rng.pick(REGIONS)} voicemail` : `${dept} ${rng.pick(['escalations', 'callbacks', 'after hours'])}`;
  });
}

export function newInbox(state: AccountState): InboxRec {
  const { rng } = state;
  // Every department first gets its voicemail; after that, some shared inboxes.
  const n = state.counters.inbox;
  const dept = n < state.departments.length ? (state.departments[n] as string) : rng.chance(0.8) ? rng.pick(state.departments) : null;
  const inbox = state.inboxes.add({ id: `i_${++state.counters.inbox}`, pos: 0, alive: true, name: inboxNameFor(state, dept), dept });
  if (dept !== null) {
    const list = state.inboxesByDept.get(dept) ?? [];
    list.push(inbox);
    state.inboxesByDept.set(dept, list);
  }
  return inbox;
}

/** An inbox of the department when there is one (its voicemail), else any inbox, else none. */
export function inboxForDept(state: AccountState, dept: string): InboxRec | null {
  const own = state.inboxesByDept.get(dept)?.filter((inbox) => inbox.alive) ?? [];
  if (own.length > 0 && state.rng.chance(0.85)) return state.rng.pick(own);
  return pickInbox(state);
}

export function pickInbox(state: AccountState): InboxRec | null {
  const { items } = state.inboxes;
  return items.length === 0 ? null : state.rng.pick(items);
}

/** A queue, skewed towards the oldest (biggest) ones. */
export function pickQueue(state: AccountState): QueueRec | null {
  const { items } = state.queues;
  if (items.length === 0) return null;
  const r = state.rng.next();
  return items[Math.floor(r * r * items.length)] ?? null;
}

export function pickUser(state: AccountState): UserRec | null {
  const { items } = state.users;
  return items.length === 0 ? null : state.rng.pick(items);
}

/** A role for a user: by the templates' shares among the roles the account has. */
export function pickRoleFor(state: AccountState, except: RoleRec | null = null): RoleRec | null {
  const choices = state.roles.items.filter((role) => role !== except).map((role) => [role, role.template.weight] as const);
  return choices.length === 0 ? null : state.rng.weighted(choices);
}
