/**
 * The shape of an event as the rules need it. schemas/ parses the wire format into this shape
 * (plus envelope fields the rules do not read); the core accepts anything structurally equal.
 */
import type { Channel, MemberType, UserAccess } from './model.ts';

interface Base<T extends string, D> {
  id: string;
  type: T;
  /** Event time in epoch milliseconds: the only clock the rules know. */
  timeMs: number;
  /** When this copy entered the log (Kafka message timestamp), for the dedupe window; default timeMs. */
  logMs?: number | undefined;
  data: D;
}

type UserId = { user_id: string };
type RoleId = { role_id: string };
type QueueId = { cc_queue_id: string };
type InboxId = { inbox_id: string };
type Membership = QueueId & UserId & { member_type: MemberType };

export type FactEvent =
  | Base<'user.upserted', UserId & { display_name: string; user_email: string; user_access: UserAccess }>
  | Base<'user.deleted', UserId>
  | Base<'role.upserted', RoleId & { role_name: string; privileges: string[] }>
  | Base<'role.deleted', RoleId>
  | Base<'role.user_assigned', RoleId & UserId>
  | Base<'role.user_unassigned', RoleId & UserId>
  | Base<
      'queue.upserted',
      QueueId & {
        queue_name: string;
        channel: Channel;
        overflow_to_inbox_id: string | null;
        recording: { automatic: boolean; ad_hoc: boolean };
      }
    >
  | Base<'queue.deleted', QueueId>
  | Base<'queue.member_assigned', Membership>
  | Base<'queue.member_unassigned', Membership>
  | Base<'inbox.upserted', InboxId & { inbox_name: string }>
  | Base<'inbox.deleted', InboxId>
  | Base<'inbox.user_granted', InboxId & UserId>
  | Base<'inbox.user_revoked', InboxId & UserId>
  | Base<'inbox.queue_granted', InboxId & QueueId>
  | Base<'inbox.queue_revoked', InboxId & QueueId>;

export type FactEventType = FactEvent['type'];
