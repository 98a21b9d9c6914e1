/**
 * The vocabulary of the access rules: the facts the contract's events carry, and the documents the
 * rules derive from them. Plain data only; nothing here does I/O.
 */

/** Channels of a queue (and of the paths of an access entry). This is the one list: schemas/ uses it. */
export const CHANNELS = ['voice', 'video', 'messaging', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

/** The three access types of the report, in the order the core derives and counts them. */
export const ACCESS_TYPES = ['automatic_call_recording', 'ad_hoc_call_recording', 'inbox'] as const;
export type AccessType = (typeof ACCESS_TYPES)[number];

/** How a user belongs to a queue. */
export const MEMBER_TYPES = ['agent', 'supervisor'] as const;
export type MemberType = (typeof MEMBER_TYPES)[number];
export const USER_ACCESS_VALUES = ['active', 'inactive'] as const;
export type UserAccess = (typeof USER_ACCESS_VALUES)[number];

/** Privileges that give Automatic Call Recording (access, play, download, delete: one access type). */
export const RECORDING_PRIVILEGE_NAMES = ['VoiceRecordingAccess:Read', 'RecordingPlay:Edit', 'VoiceRecordingDownload:Edit', 'VoiceRecordingDelete:Edit'] as const;
export type RecordingPrivilege = (typeof RECORDING_PRIVILEGE_NAMES)[number];
export const RECORDING_PRIVILEGES: ReadonlySet<string> = new Set(RECORDING_PRIVILEGE_NAMES);

/** Channels on which call recording exists at all (rules 2 and 3). */
export const RECORDED_CHANNELS: ReadonlySet<Channel> = new Set<Channel>(['voice', 'video']);

/** Whether a role's holders may be given Automatic Call Recording (rule 2): all a role means to a document. */
export function roleRecords(role: Pick<RoleFact, 'privileges'> | undefined): boolean {
  return role !== undefined && role.privileges.some((p) => RECORDING_PRIVILEGES.has(p));
}

export interface UserFact {
  display_name: string;
  user_email: string;
  user_access: UserAccess;
}
export interface RoleFact {
  role_name: string;
  privileges: string[];
}
export interface QueueFact {
  queue_name: string;
  channel: Channel;
  overflow_to_inbox_id: string | null;
  recording: { automatic: boolean; ad_hoc: boolean };
}
export interface InboxFact {
  inbox_name: string;
}

export type Rule = 'inbox_user_grant' | 'inbox_queue_grant' | 'automatic_recording_inbox' | 'automatic_recording' | 'ad_hoc_recording';

/** One way an entry is granted: "why does this user have access". */
export interface Path {
  rule: Rule;
  channel: Channel;
  queue_id: string | null;
  role_id: string | null;
  member_type: MemberType | null;
}

export interface NamedRef {
  id: string;
  name: string;
}

/** The names of an account's inboxes and queues, by id (undefined: no name known, e.g. deleted since). */
export interface EntityNames {
  inbox(id: string): string | undefined;
  queue(id: string): string | undefined;
}

/** One (access type, target) a user has, with every path that grants it. */
export interface Entry {
  access_type: AccessType;
  target: { type: 'inbox' | 'queue'; id: string; name: string };
  queues: NamedRef[];
  channels: Channel[];
  granted_by: Path[];
}

/** The per-user document: profile plus every entry, unfiltered. */
export interface UserDoc {
  user_id: string;
  display_name: string;
  user_email: string;
  user_access: UserAccess;
  entries: Entry[];
}

/** A report filter (contract sections 3 and 4): any part may be absent. */
export interface ReportFilter {
  channel?: Channel | undefined;
  access_type?: AccessType | undefined;
  /** only entries whose target is this inbox */
  inbox_id?: string | undefined;
  /** only entries whose target is this queue or that have a path through it (paths narrowed to it) */
  cc_queue_id?: string | undefined;
}
