/**
 * The roles of a demo account: who holds them, what privileges they carry, and how their holders
 * belong to queues. The four core roles exist in every account; bigger accounts add more.
 */
import type { MemberType } from '../../schemas/events.ts';
import type { Random } from './random.ts';

export const RECORDING = {
  access: 'VoiceRecordingAccess:Read',
  play: 'RecordingPlay:Edit',
  download: 'VoiceRecordingDownload:Edit',
  delete: 'VoiceRecordingDelete:Edit',
} as const;

/** Privileges that give no access to recordings: toggling them must not change the report. */
export const OTHER_PRIVILEGES: readonly string[] = [
  'InboxTab',
  'QueueTab',
  'Reports:Read',
  'Reports:Edit',
  'Softphone',
  'Softphone:Outbound',
  'Monitoring:Listen',
  'Monitoring:Whisper',
  'Users:Edit',
  'Queues:Edit',
  'Roles:Edit',
  'QualityManagement:Edit',
  'Schedules:Edit',
  'Wallboard:Read',
  'Contacts:Edit',
];

export interface RoleTemplate {
  name: string;
  privileges: readonly string[];
  /** relative share of the account's users holding this role */
  weight: number;
  /** how holders belong to queues: member type and how many queues (inclusive range) */
  membership: readonly { type: MemberType; min: number; max: number; chance: number }[];
  /** chance that a holder gets direct inbox grants, and how many */
  inboxGrants: { chance: number; max: number };
  /** supervisory roles: new memberships are as supervisor */
  supervises: boolean;
  core: boolean;
}

const agentQueues = [{ type: 'agent', min: 1, max: 4, chance: 1 }] as const;

/** The roles in the order an account gets them: the first four are in every account. */
export const ROLE_TEMPLATES: readonly RoleTemplate[] = [
  {
    name: 'Agent',
    privileges: ['InboxTab', 'QueueTab', 'Softphone'],
    weight: 84,
    membership: agentQueues,
    inboxGrants: { chance: 0.04, max: 1 },
    supervises: false,
    core: true,
  },
  {
    name: 'Supervisor',
    privileges: [RECORDING.access, RECORDING.play, 'InboxTab', 'QueueTab', 'Reports:Read', 'Monitoring:Listen'],
    weight: 7,
    membership: [
      { type: 'supervisor', min: 2, max: 8, chance: 1 },
      { type: 'agent', min: 1, max: 1, chance: 0.15 },
    ],
    inboxGrants: { chance: 0.4, max: 3 },
    supervises: true,
    core: true,
  },
  {
    name: 'QA Analyst',
    privileges: [RECORDING.play, RECORDING.download, 'Reports:Read', 'QualityManagement:Edit'],
    weight: 2.5,
    membership: [{ type: 'supervisor', min: 1, max: 3, chance: 0.8 }],
    inboxGrants: { chance: 0.2, max: 2 },
    supervises: true,
    core: true,
  },
  {
    name: 'Admin',
    privileges: [...Object.values(RECORDING), 'InboxTab', 'QueueTab', 'Reports:Read', 'Reports:Edit', 'Users:Edit', 'Queues:Edit', 'Roles:Edit'],
    weight: 1,
    membership: [{ type: 'supervisor', min: 1, max: 2, chance: 0.5 }],
    inboxGrants: { chance: 0.5, max: 3 },
    supervises: true,
    core: true,
  },
  {
    name: 'Team Lead',
    privileges: [RECORDING.access, 'InboxTab', 'QueueTab', 'Reports:Read', 'Monitoring:Whisper'],
    weight: 2,
    membership: [
      { type: 'supervisor', min: 1, max: 4, chance: 1 },
      { type: 'agent', min: 1, max: 2, chance: 0.6 },
    ],
    inboxGrants: { chance: 0.3, max: 2 },
    supervises: true,
    core: false,
  },
  {
    name: 'Trainee Agent',
    privileges: ['QueueTab', 'Softphone'],
    weight: 2,
    membership: [{ type: 'agent', min: 1, max: 2, chance: 1 }],
    inboxGrants: { chance: 0, max: 0 },
    supervises: false,
    core: false,
  },
  {
    name: 'Workforce Manager',
    privileges: ['Reports:Read', 'Schedules:Edit', 'Wallboard:Read'],
    weight: 0.5,
    membership: [],
    inboxGrants: { chance: 0.1, max: 1 },
    supervises: true,
    core: false,
  },
  {
    name: 'Compliance Officer',
    privileges: [RECORDING.access, RECORDING.download, RECORDING.delete, 'Reports:Read'],
    weight: 0.3,
    membership: [{ type: 'supervisor', min: 1, max: 2, chance: 0.3 }],
    inboxGrants: { chance: 1, max: 5 },
    supervises: true,
    core: false,
  },
  {
    name: 'Reporting Analyst',
    privileges: ['Reports:Read', 'Reports:Edit', 'Wallboard:Read'],
    weight: 0.5,
    membership: [],
    inboxGrants: { chance: 0, max: 0 },
    supervises: false,
    core: false,
  },
];

/** Names of roles admins add later on (custom roles, with a random mix of privileges). */
export const CUSTOM_ROLE_NAMES: readonly string[] = [
  'Seasonal Agent',
  'Night Shift Supervisor',
  'Escalation Specialist',
  'Billing Specialist',
  'Retention Specialist',
  'Floor Manager',
  'Auditor (external)',
  'Vendor Agent',
  'Coach',
  'Språkstöd',
];

/** The default number of roles for an account of `agents` users: 4 core roles, more as it grows. */
export function defaultRoleCount(agents: number): number {
  return Math.min(ROLE_TEMPLATES.length, 4 + Math.floor(Math.log10(Math.max(1, agents))));
}

/** The template of a custom role: held by few, agents' queues, privileges chosen when it is made. */
export function customTemplate(name: string, privileges: readonly string[]): RoleTemplate {
  return {
    name,
    privileges,
    weight: 1,
    membership: [{ type: 'agent', min: 1, max: 2, chance: 0.8 }],
    inboxGrants: { chance: 0.05, max: 1 },
    supervises: false,
    core: false,
  };
}

/** A random privilege set for a custom role: some of them reach recordings. */
export function customPrivileges(rng: Random): string[] {
  const privileges = rng.shuffle([...OTHER_PRIVILEGES]).slice(0, rng.int(1, 4));
  if (rng.chance(0.35)) privileges.unshift(rng.pick(Object.values(RECORDING)));
  return privileges;
}
