/**
 * The HTTP API's wire shapes: path and query parameters (validated at the edge, every bad field
 * named) and the answers, as zod schemas from which the OpenAPI 3.1 document is generated.
 *
 * Query objects are strict: an unknown parameter is a 400, because a typo (`acces_type=inbox`)
 * would otherwise silently widen the report an auditor relies on.
 */
import { z } from '@hono/zod-openapi';
import { ACCESS_TYPES, CHANNELS, MEMBER_TYPES, USER_ACCESS_VALUES } from './events.ts';
import { MAX_ID_LENGTH, eventTimeSchema } from './fields.ts';

/** Longest keyword search we accept, in characters and in words (each word is one query clause). */
export const MAX_Q_LENGTH = 256;
export const MAX_Q_WORDS = 16;
/** Page size bounds of GET /users. */
export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 50;
/** How long a request may wait for min_position. */
export const MAX_WAIT_MS = 30_000;
export const DEFAULT_WAIT_MS = 5_000;
/** Page size bounds of GET /users/{user_id}/history. */
export const MAX_HISTORY_PAGE_SIZE = 1000;
export const DEFAULT_HISTORY_PAGE_SIZE = 100;

export const SORT_FIELDS = ['name', 'email', 'can_access'] as const;
export type SortField = (typeof SORT_FIELDS)[number];
export const SORT_ORDERS = ['asc', 'desc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

// `topic:partition:offset`, comma-joined; topic names are Kafka's (no colon), offsets int64.
const POSITION_LIST = /^[A-Za-z0-9._-]{1,249}:\d{1,9}:\d{1,19}(,[A-Za-z0-9._-]{1,249}:\d{1,9}:\d{1,19})*$/;

const idParam = (name: string, example: string) =>
  z
    .string()
    .min(1)
    .max(MAX_ID_LENGTH)
    .regex(/^[^\x00-\x1f\x7f]*$/, { error: 'must not contain control characters' })
    .openapi({ param: { name, in: 'path' }, example });

export const channelSchema = z.enum(CHANNELS).openapi({ description: 'only paths through queues of this channel count (a direct inbox grant is voice)' });
export const accessTypeSchema = z.enum(ACCESS_TYPES).openapi({ description: 'only entries of this access type count' });

const targetId = (description: string, example: string) =>
  z
    .string()
    .min(1)
    .max(MAX_ID_LENGTH)
    .regex(/^[^\x00-\x1f\x7f]*$/, { error: 'must not contain control characters' })
    .optional()
    .openapi({ description, example });

/** Target filters (contract section 4): who reaches this inbox, or this queue's recordings and inboxes, and why. */
const targetFilters = {
  inbox_id: targetId('only entries whose target is this inbox', 'inb_billing'),
  cc_queue_id: targetId('only entries whose target is this queue or that come through it (their queues and paths narrowed to it)', 'q_support'),
};

const freshness = {
  min_position: z
    .string()
    .max(20_000)
    .regex(POSITION_LIST, { error: 'must be topic:partition:offset, comma-separated (e.g. "zcc.users:0:42,zcc.roles:1:7")' })
    .optional()
    .openapi({ description: 'answer only once every listed offset is reflected (read your own writes)', example: 'zcc.users:0:42' }),
  wait_ms: z.coerce.number().int().min(0).max(MAX_WAIT_MS).default(DEFAULT_WAIT_MS).openapi({ description: 'how long to wait for min_position before answering 503' }),
};

export const accountParamsSchema = z.object({ account_id: idParam('account_id', 'acc_3F9k') });
export const userParamsSchema = z.object({ account_id: idParam('account_id', 'acc_3F9k'), user_id: idParam('user_id', 'u_7') });

/**
 * `as_of`: the report as it stood at that instant, by event time, answered from the history index.
 * RFC 3339 with seconds and an offset, like event times; milliseconds are the finest precision.
 */
const asOf = {
  as_of: eventTimeSchema
    .optional()
    .openapi({ description: 'the report as it stood at this instant (RFC 3339 with an offset), by event time, from the access history', example: '2026-11-27T10:15:00Z' }),
};

export const summaryQuerySchema = z.strictObject({ channel: channelSchema.optional(), ...asOf, ...freshness });
export const queuesQuerySchema = z.strictObject({ channel: channelSchema.optional(), access_type: accessTypeSchema.optional(), ...asOf, ...freshness });
export const inboxesQuerySchema = z.strictObject({ channel: channelSchema.optional(), ...asOf, ...freshness });
export const userQuerySchema = z.strictObject({ channel: channelSchema.optional(), access_type: accessTypeSchema.optional(), ...targetFilters, ...asOf, ...freshness });

const reportFilters = {
  q: z
    .string()
    .max(MAX_Q_LENGTH)
    .optional()
    .openapi({
      description: `keyword search over display name and email: every word must start a word of the name or email (case and accents ignored; words of 4+ letters also match with one or two typos). At most ${MAX_Q_WORDS} words.`,
    }),
  channel: channelSchema.optional(),
  access_type: accessTypeSchema.optional(),
  ...targetFilters,
  sort: z.enum(SORT_FIELDS).default('name'),
  order: z.enum(SORT_ORDERS).optional().openapi({ description: 'default asc for name and email, desc for can_access' }),
};

export const usersQuerySchema = z.strictObject({
  ...reportFilters,
  size: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().max(8192).optional().openapi({ description: 'next_cursor of the previous page, with the same filters' }),
  include_empty: z.enum(['true', 'false']).default('false').openapi({ description: 'also list users with no entry that counts (can_access 0)' }),
  ...asOf,
  ...freshness,
});

export const usersCsvQuerySchema = z.strictObject({ ...reportFilters, ...asOf, ...freshness });

export const historyQuerySchema = z.strictObject({
  size: z.coerce.number().int().min(1).max(MAX_HISTORY_PAGE_SIZE).default(DEFAULT_HISTORY_PAGE_SIZE),
  cursor: z.string().max(8192).optional().openapi({ description: 'next_cursor of the previous page' }),
  ...freshness,
});

const position = z.string().openapi({
  description: 'Kafka positions the answer reflects: topic:partition:offset, comma-joined',
  example: 'zcc.inboxes:0:118,zcc.queues:0:40,zcc.roles:0:12,zcc.users:0:77',
});
const perType = z.object({ inbox: z.number().int(), automatic_call_recording: z.number().int(), ad_hoc_call_recording: z.number().int() });

export const summaryResponseSchema = z
  .object({
    account_id: z.string(),
    channel: z.enum(CHANNELS).nullable(),
    users: perType.extend({ total: z.number().int() }),
    queues: perType,
    inboxes: z.number().int(),
    position,
  })
  .openapi('Summary');

export const userRowSchema = z
  .object({
    user_id: z.string(),
    display_name: z.string(),
    user_email: z.string(),
    user_access: z.enum(USER_ACCESS_VALUES),
    can_access: z.number().int(),
    access_types: z.array(z.enum(ACCESS_TYPES)),
  })
  .openapi('UserRow');

export const usersPageSchema = z.object({ items: z.array(userRowSchema), total: z.number().int(), next_cursor: z.string().nullable(), position }).openapi('UsersPage');

export const pathSchema = z
  .object({
    rule: z.enum(['inbox_user_grant', 'inbox_queue_grant', 'automatic_recording_inbox', 'automatic_recording', 'ad_hoc_recording']),
    channel: z.enum(CHANNELS),
    queue_id: z.string().nullable(),
    role_id: z.string().nullable(),
    member_type: z.enum(MEMBER_TYPES).nullable(),
  })
  .openapi('Path');

export const entrySchema = z
  .object({
    access_type: z.enum(ACCESS_TYPES),
    target: z.object({ type: z.enum(['inbox', 'queue']), id: z.string(), name: z.string() }),
    queues: z.array(z.object({ id: z.string(), name: z.string() })),
    channels: z.array(z.enum(CHANNELS)),
    granted_by: z.array(pathSchema),
  })
  .openapi('Entry');

export const userDetailSchema = userRowSchema.extend({ entries: z.array(entrySchema), position }).openapi('UserDetail');

const profileSchema = z.object({ display_name: z.string(), user_email: z.string(), user_access: z.enum(USER_ACCESS_VALUES) }).openapi('Profile');

const historyEventSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    topic: z.string(),
    partition: z.number().int(),
    offset: z.string().openapi({ description: 'Kafka offset (64-bit, as a string)' }),
    time: z.string().openapi({ description: 'the event time as sent' }),
  })
  .openapi('HistoryEvent');

const historyCommon = {
  at: z.string().openapi({ description: 'when it changed: the event time of the causing event' }),
  event: historyEventSchema,
};

export const entryChangeSchema = z
  .object({
    ...historyCommon,
    kind: z.literal('entry'),
    change: z.enum(['granted', 'revoked', 'changed']),
    access_type: z.enum(ACCESS_TYPES),
    target: z.object({ type: z.enum(['inbox', 'queue']), id: z.string(), name: z.string() }),
    entry: entrySchema.openapi({ description: 'the entry after the change (before it, for revoked), with its paths' }),
    previous: entrySchema.nullable().openapi({ description: 'the entry before the change (changed only)' }),
  })
  .openapi('EntryChange');

export const profileChangeSchema = z
  .object({
    ...historyCommon,
    kind: z.literal('profile'),
    change: z.enum(['created', 'updated', 'deleted']),
    profile: profileSchema.openapi({ description: 'the profile after the change (before it, for deleted)' }),
    previous: profileSchema.nullable().openapi({ description: 'the profile before the change (updated only)' }),
  })
  .openapi('ProfileChange');

export const historyPageSchema = z
  .object({
    account_id: z.string(),
    user_id: z.string(),
    items: z.array(z.discriminatedUnion('kind', [entryChangeSchema, profileChangeSchema])),
    next_cursor: z.string().nullable(),
    position,
  })
  .openapi('HistoryPage');

export const queuesResponseSchema = z
  .object({
    items: z.array(z.object({ cc_queue_id: z.string(), queue_name: z.string(), channel: z.enum(CHANNELS).nullable(), users: perType })),
    position,
  })
  .openapi('Queues');

export const inboxesResponseSchema = z
  .object({
    items: z.array(
      z.object({ inbox_id: z.string(), inbox_name: z.string(), users: z.number().int().openapi({ description: 'users with an Inbox entry on it (after the channel filter)' }) }),
    ),
    position,
  })
  .openapi('Inboxes');

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .catchall(z.unknown())
  .openapi('Problem');

export type SummaryResponse = z.infer<typeof summaryResponseSchema>;
export type UserRowResponse = z.infer<typeof userRowSchema>;
export type UsersPage = z.infer<typeof usersPageSchema>;
export type UserDetail = z.infer<typeof userDetailSchema>;
export type QueuesResponse = z.infer<typeof queuesResponseSchema>;
export type InboxesResponse = z.infer<typeof inboxesResponseSchema>;
export type ProblemBody = z.infer<typeof problemSchema>;
export type UsersQuery = z.infer<typeof usersQuerySchema>;
export type UsersCsvQuery = z.infer<typeof usersCsvQuerySchema>;
export type HistoryPage = z.infer<typeof historyPageSchema>;
export type HistoryItem = HistoryPage['items'][number];
