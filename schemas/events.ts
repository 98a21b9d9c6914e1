/**
 * The wire shape of the change events: CloudEvents 1.0 in structured JSON mode, and the data of
 * every event type of the contract (field names follow the contact-center API).
 *
 * Unknown extra fields, in the envelope (CloudEvents extension attributes) or in `data` (fields the
 * API may add later), are allowed and stripped: refusing them would dead-letter events the moment the
 * producer grows a field, and keeping them would let unvalidated input reach the index.
 */
import { z } from 'zod';
import { CHANNELS, MEMBER_TYPES, USER_ACCESS_VALUES } from '../projections/model.ts';
import { emailSchema, eventTimeSchema, idSchema, MAX_NAME_LENGTH, nameSchema, nullableIdSchema, parseEventTime } from './fields.ts';

// The vocabulary of the rules has one home, the pure core: channels, access types, member types,
// user statuses and recording privileges are its lists, re-exported here for the wire schemas.
export { ACCESS_TYPES, CHANNELS, MEMBER_TYPES, RECORDING_PRIVILEGE_NAMES as RECORDING_PRIVILEGES, USER_ACCESS_VALUES } from '../projections/model.ts';
export type { AccessType, Channel, MemberType, RecordingPrivilege, UserAccess } from '../projections/model.ts';

/** Logical topics; their physical names come from the config (TOPIC_USERS...). */
export const LOGICAL_TOPICS = ['users', 'roles', 'queues', 'inboxes'] as const;
export type LogicalTopic = (typeof LOGICAL_TOPICS)[number];

const memberSchema = z.object({
  cc_queue_id: idSchema,
  user_id: idSchema,
  member_type: z.enum(MEMBER_TYPES),
});
const inboxUserSchema = z.object({ inbox_id: idSchema, user_id: idSchema });
const inboxQueueSchema = z.object({ inbox_id: idSchema, cc_queue_id: idSchema });
const roleUserSchema = z.object({ role_id: idSchema, user_id: idSchema });

/** The data schema of every event type (z.object strips unknown keys: see the file comment). */
export const DATA_SCHEMAS = {
  'user.upserted': z.object({
    user_id: idSchema,
    display_name: nameSchema,
    user_email: emailSchema,
    user_access: z.enum(USER_ACCESS_VALUES),
  }),
  'user.deleted': z.object({ user_id: idSchema }),
  'role.upserted': z.object({
    role_id: idSchema,
    role_name: nameSchema,
    // The full set of the role's privileges, not a delta.
    privileges: z.array(nameSchema),
  }),
  'role.deleted': z.object({ role_id: idSchema }),
  'role.user_assigned': roleUserSchema,
  'role.user_unassigned': roleUserSchema,
  'queue.upserted': z.object({
    cc_queue_id: idSchema,
    queue_name: nameSchema,
    channel: z.enum(CHANNELS),
    // The queue's inbox; null when the queue has none.
    overflow_to_inbox_id: nullableIdSchema,
    recording: z.object({ automatic: z.boolean(), ad_hoc: z.boolean() }),
  }),
  'queue.deleted': z.object({ cc_queue_id: idSchema }),
  'queue.member_assigned': memberSchema,
  'queue.member_unassigned': memberSchema,
  'inbox.upserted': z.object({ inbox_id: idSchema, inbox_name: nameSchema }),
  'inbox.deleted': z.object({ inbox_id: idSchema }),
  'inbox.user_granted': inboxUserSchema,
  'inbox.user_revoked': inboxUserSchema,
  'inbox.queue_granted': inboxQueueSchema,
  'inbox.queue_revoked': inboxQueueSchema,
} as const;

export type EventType = keyof typeof DATA_SCHEMAS;
/** The data of one event type, after parsing. */
export type EventData<T extends EventType> = z.infer<(typeof DATA_SCHEMAS)[T]>;

/** The topic each event type travels on (contract section 2). */
export const TOPIC_OF_TYPE = {
  'user.upserted': 'users',
  'user.deleted': 'users',
  'role.upserted': 'roles',
  'role.deleted': 'roles',
  'role.user_assigned': 'roles',
  'role.user_unassigned': 'roles',
  'queue.upserted': 'queues',
  'queue.deleted': 'queues',
  'queue.member_assigned': 'queues',
  'queue.member_unassigned': 'queues',
  'inbox.upserted': 'inboxes',
  'inbox.deleted': 'inboxes',
  'inbox.user_granted': 'inboxes',
  'inbox.user_revoked': 'inboxes',
  'inbox.queue_granted': 'inboxes',
  'inbox.queue_revoked': 'inboxes',
} as const satisfies Record<EventType, LogicalTopic>;

/** Every event type of the contract, in contract order. */
export const EVENT_TYPES = Object.keys(DATA_SCHEMAS) as EventType[];

/** Whether a string is one of the contract's event types. */
export function isEventType(type: string): type is EventType {
  return Object.hasOwn(DATA_SCHEMAS, type);
}

/**
 * The CloudEvents envelope with any `type` and any JSON object as `data`: the first stage of
 * decoding, so that a bad envelope, an unknown type and bad data get distinct reasons.
 */
export const envelopeSchema = z.object({
  specversion: z.literal('1.0'),
  id: idSchema.meta({ description: 'Unique per event; a redelivered id is applied once.' }),
  source: z.string().min(1).max(MAX_NAME_LENGTH),
  type: z.string().min(1),
  time: eventTimeSchema.meta({ description: 'When the change happened; used for reports and as_of.' }),
  accountid: idSchema.meta({ description: 'The account; must equal the Kafka message key.' }),
  // Structured mode with JSON data; any other content type would mean `data` is not what we parse.
  datacontenttype: z.literal('application/json').optional(),
  data: z.record(z.string(), z.unknown()),
});
export type Envelope = z.infer<typeof envelopeSchema>;

function eventSchemaOf<T extends EventType>(type: T) {
  return envelopeSchema.extend({ type: z.literal(type), data: DATA_SCHEMAS[type] }).transform((event) => ({ ...event, timeMs: parseEventTime(event.time) }));
}

/** The full schema (envelope + data) of each event type; the output adds `timeMs`. */
export const EVENT_SCHEMAS = {
  'user.upserted': eventSchemaOf('user.upserted'),
  'user.deleted': eventSchemaOf('user.deleted'),
  'role.upserted': eventSchemaOf('role.upserted'),
  'role.deleted': eventSchemaOf('role.deleted'),
  'role.user_assigned': eventSchemaOf('role.user_assigned'),
  'role.user_unassigned': eventSchemaOf('role.user_unassigned'),
  'queue.upserted': eventSchemaOf('queue.upserted'),
  'queue.deleted': eventSchemaOf('queue.deleted'),
  'queue.member_assigned': eventSchemaOf('queue.member_assigned'),
  'queue.member_unassigned': eventSchemaOf('queue.member_unassigned'),
  'inbox.upserted': eventSchemaOf('inbox.upserted'),
  'inbox.deleted': eventSchemaOf('inbox.deleted'),
  'inbox.user_granted': eventSchemaOf('inbox.user_granted'),
  'inbox.user_revoked': eventSchemaOf('inbox.user_revoked'),
  'inbox.queue_granted': eventSchemaOf('inbox.queue_granted'),
  'inbox.queue_revoked': eventSchemaOf('inbox.queue_revoked'),
} as const satisfies Record<EventType, unknown>;

type EventSchema = (typeof EVENT_SCHEMAS)[EventType];

/** Any event of the contract, discriminated on `type` (decodeEvent gives better reasons). */
export const accessEventSchema = z.discriminatedUnion('type', Object.values(EVENT_SCHEMAS) as [EventSchema, ...EventSchema[]]);

/** The decoded event of one type: `time` as sent, plus `timeMs` (epoch ms) parsed from it. */
export type EventOfType<T extends EventType> = z.infer<(typeof EVENT_SCHEMAS)[T]>;
/** Any decoded event, discriminated on `type`. */
export type AccessEvent = { [T in EventType]: EventOfType<T> }[EventType];
