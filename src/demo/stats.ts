/**
 * Counting a generated history as it streams by (no event kept): what was created and deleted,
 * the mix of event types, and the fan-out of role privilege changes. The demo command prints it;
 * the tests check the presets against it.
 */
import { RECORDING_PRIVILEGES, type EventType, type LogicalTopic } from '../../schemas/events.ts';
import type { GeneratedEvent } from './generator.ts';

export interface HistoryStats {
  events: number;
  accounts: number;
  byType: Partial<Record<EventType, number>>;
  byTopic: Record<LogicalTopic, number>;
  /** distinct entities ever created (ids are never reused, so this counts creations) */
  created: { users: number; roles: number; queues: number; inboxes: number };
  deleted: { users: number; roles: number; queues: number; inboxes: number };
  /** upserts of an id after its deletion: must stay 0 */
  reusedIds: number;
  /** role upserts that gave or took the last recording privilege: users of the role at that moment */
  recordingFanOuts: number[];
}

type Kind = 'users' | 'roles' | 'queues' | 'inboxes';

interface AccountTrack {
  ids: Record<Kind, Map<string, boolean>>; // id -> alive
  userRole: Map<string, string>;
  roleSize: Map<string, number>;
  roleRecords: Map<string, boolean>;
}

const RECORDING: ReadonlySet<string> = new Set(RECORDING_PRIVILEGES);

// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createHistoryStats() {
  const stats: HistoryStats = {
    events: 0,
    accounts: 0,
    byType: {},
    byTopic: { users: 0, roles: 0, queues: 0, inboxes: 0 },
    created: { users: 0, roles: 0, queues: 0, inboxes: 0 },
    deleted: { users: 0, roles: 0, queues: 0, inboxes: 0 },
    reusedIds: 0,
    recordingFanOuts: [],
  };
  const accounts = new Map<string, AccountTrack>();

  const track = (key: string): AccountTrack => {
    let account = accounts.get(key);
    if (!account) {
      account = { ids: { users: new Map(), roles: new Map(), queues: new Map(), inboxes: new Map() }, userRole: new Map(), roleSize: new Map(), roleRecords: new Map() };
      accounts.set(key, account);
      stats.accounts++;
    }
    return account;
  };
  const upserted = (account: AccountTrack, kind: Kind, id: string) => {
    const alive = account.ids[kind].get(id);
    if (alive === undefined) stats.created[kind]++;
    else if (!alive) stats.reusedIds++;
    account.ids[kind].set(id, true);
  };
  const deleted = (account: AccountTrack, kind: Kind, id: string) => {
    if (account.ids[kind].get(id) === true) stats.deleted[kind]++;
    account.ids[kind].set(id, false);
  };
  const setRole = (account: AccountTrack, userId: string, roleId: string | undefined) => {
    const before = account.userRole.get(userId);
    if (before !== undefined) account.roleSize.set(before, (account.roleSize.get(before) ?? 1) - 1);
    if (roleId === undefined) account.userRole.delete(userId);
    else {
      account.userRole.set(userId, roleId);
      account.roleSize.set(roleId, (account.roleSize.get(roleId) ?? 0) + 1);
    }
  };

  function add({ topic, key, value }: GeneratedEvent): void {
    stats.events++;
    stats.byType[value.type] = (stats.byType[value.type] ?? 0) + 1;
    stats.byTopic[topic]++;
    const account = track(key);
    switch (value.type) {
      case 'user.upserted':
        return upserted(account, 'users', value.data.user_id);
      case 'user.deleted':
        setRole(account, value.data.user_id, undefined);
        return deleted(account, 'users', value.data.user_id);
      case 'queue.upserted':
        return upserted(account, 'queues', value.data.cc_queue_id);
      case 'queue.deleted':
        return deleted(account, 'queues', value.data.cc_queue_id);
      case 'inbox.upserted':
        return upserted(account, 'inboxes', value.data.inbox_id);
      case 'inbox.deleted':
        return deleted(account, 'inboxes', value.data.inbox_id);
      case 'role.upserted': {
        const { role_id } = value.data;
        const records = value.data.privileges.some((privilege) => RECORDING.has(privilege));
        const before = account.roleRecords.get(role_id);
        if (before !== undefined && before !== records) stats.recordingFanOuts.push(account.roleSize.get(role_id) ?? 0);
        account.roleRecords.set(role_id, records);
        return upserted(account, 'roles', role_id);
      }
      case 'role.deleted':
        for (const [userId, roleId] of account.userRole) if (roleId === value.data.role_id) account.userRole.delete(userId);
        account.roleSize.delete(value.data.role_id);
        return deleted(account, 'roles', value.data.role_id);
      case 'role.user_assigned':
        return setRole(account, value.data.user_id, value.data.role_id);
      case 'role.user_unassigned':
        if (account.userRole.get(value.data.user_id) === value.data.role_id) setRole(account, value.data.user_id, undefined);
        return;
      default:
        return;
    }
  }

  return { add, result: (): HistoryStats => stats };
}
