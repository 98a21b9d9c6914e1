/**
 * Event builders for tests: short calls that make contract events with fresh ids and increasing
 * times, so a scenario reads as the story it tells.
 */
import type { Channel, FactEvent, MemberType } from '../../projections/index.ts';

type Of<T extends FactEvent['type']> = Extract<FactEvent, { type: T }>;

export function createEventBuilder(startMs = Date.parse('2026-03-01T09:00:00Z'), prefix = 'e') {
  let n = 0;
  const make = <T extends FactEvent['type']>(type: T, data: Of<T>['data']): Of<T> => {
    n += 1;
    return { id: `${prefix}-${n}`, type, timeMs: startMs + n * 1000, data } as Of<T>;
  };
  return {
    user: (user_id: string, display_name = `User ${user_id}`, user_access: 'active' | 'inactive' = 'active') =>
      make('user.upserted', { user_id, display_name, user_email: `${user_id}@example.com`, user_access }),
    userDeleted: (user_id: string) => make('user.deleted', { user_id }),
    role: (role_id: string, privileges: string[], role_name = role_id) => make('role.upserted', { role_id, role_name, privileges }),
    roleDeleted: (role_id: string) => make('role.deleted', { role_id }),
    assignRole: (role_id: string, user_id: string) => make('role.user_assigned', { role_id, user_id }),
    unassignRole: (role_id: string, user_id: string) => make('role.user_unassigned', { role_id, user_id }),
    queue: (cc_queue_id: string, opts: { channel?: Channel; inbox?: string | null; automatic?: boolean; ad_hoc?: boolean; name?: string } = {}) =>
      make('queue.upserted', {
        cc_queue_id,
        queue_name: opts.name ?? `Queue ${cc_queue_id}`,
        channel: opts.channel ?? 'voice',
        overflow_to_inbox_id: opts.inbox ?? null,
        recording: { automatic: opts.automatic ?? false, ad_hoc: opts.ad_hoc ?? false },
      }),
    queueDeleted: (cc_queue_id: string) => make('queue.deleted', { cc_queue_id }),
    member: (cc_queue_id: string, user_id: string, member_type: MemberType = 'agent') => make('queue.member_assigned', { cc_queue_id, user_id, member_type }),
    unmember: (cc_queue_id: string, user_id: string, member_type: MemberType = 'agent') => make('queue.member_unassigned', { cc_queue_id, user_id, member_type }),
    inbox: (inbox_id: string, inbox_name = `Inbox ${inbox_id}`) => make('inbox.upserted', { inbox_id, inbox_name }),
    inboxDeleted: (inbox_id: string) => make('inbox.deleted', { inbox_id }),
    grantUser: (inbox_id: string, user_id: string) => make('inbox.user_granted', { inbox_id, user_id }),
    revokeUser: (inbox_id: string, user_id: string) => make('inbox.user_revoked', { inbox_id, user_id }),
    grantQueue: (inbox_id: string, cc_queue_id: string) => make('inbox.queue_granted', { inbox_id, cc_queue_id }),
    revokeQueue: (inbox_id: string, cc_queue_id: string) => make('inbox.queue_revoked', { inbox_id, cc_queue_id }),
  };
}

export type EventBuilder = ReturnType<typeof createEventBuilder>;
