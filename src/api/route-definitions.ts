/**
 * The report routes as OpenAPI route definitions: the single source of the request validation and
 * of the published /openapi.json.
 */
import { createRoute, z } from '@hono/zod-openapi';
import {
  accountParamsSchema,
  historyPageSchema,
  historyQuerySchema,
  inboxesQuerySchema,
  inboxesResponseSchema,
  problemSchema,
  queuesQuerySchema,
  queuesResponseSchema,
  summaryQuerySchema,
  summaryResponseSchema,
  userDetailSchema,
  userParamsSchema,
  userQuerySchema,
  usersCsvQuerySchema,
  usersPageSchema,
  usersQuerySchema,
} from '../../schemas/api.ts';

/** Base path of the report routes (OpenAPI syntax). */
export const REPORT_BASE = '/v1/accounts/{account_id}/access';

const positionHeader = { 'X-Access-Index-Position': { description: 'the positions the answer reflects (as the body field `position`)', schema: { type: 'string' as const } } };

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: problemSchema } } });
const errors = {
  400: problem('bad parameters: `errors` names each bad field'),
  401: problem('no token, or a token that does not verify'),
  403: problem('the token lacks the scope, or is for another account'),
  503: problem('min_position not reached within wait_ms (`lag` says where), or a server is unavailable'),
};
const security = [{ Bearer: [] }];
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  headers: positionHeader,
  content: { 'application/json': { schema } },
});

export const summaryRoute = createRoute({
  method: 'get',
  path: `${REPORT_BASE}/summary`,
  tags: ['report'],
  summary: 'How many users and queues reach inboxes and recordings (now, or as_of a past instant)',
  security,
  request: { params: accountParamsSchema, query: summaryQuerySchema },
  responses: { 200: json(summaryResponseSchema, 'the summary, from the counters (as_of: from the access history)'), ...errors },
});

export const usersRoute = createRoute({
  method: 'get',
  path: `${REPORT_BASE}/users`,
  tags: ['report'],
  summary: 'Report rows: one per user with at least one entry that counts',
  security,
  request: { params: accountParamsSchema, query: usersQuerySchema },
  responses: { 200: json(usersPageSchema, 'a page of rows; follow next_cursor for the rest'), ...errors },
});

export const userRoute = createRoute({
  method: 'get',
  path: `${REPORT_BASE}/users/{user_id}`,
  tags: ['report'],
  summary: "A user's drill-down: every entry and every path that grants it",
  security,
  request: { params: userParamsSchema, query: userQuerySchema },
  responses: { 200: json(userDetailSchema, 'the drill-down'), ...errors, 404: problem('no such user in this account') },
});

export const queuesRoute = createRoute({
  method: 'get',
  path: `${REPORT_BASE}/queues`,
  tags: ['report'],
  summary: 'Queues that appear in at least one entry, with users per access type (now, or as_of a past instant)',
  security,
  request: { params: accountParamsSchema, query: queuesQuerySchema },
  responses: { 200: json(queuesResponseSchema, 'the queues view, from the counters (as_of: from the access history)'), ...errors },
});

export const inboxesRoute = createRoute({
  method: 'get',
  path: `${REPORT_BASE}/inboxes`,
  tags: ['report'],
  summary: 'Inboxes that are the target of at least one Inbox entry, with the number of users who reach each',
  security,
  request: { params: accountParamsSchema, query: inboxesQuerySchema },
  responses: { 200: json(inboxesResponseSchema, 'the inboxes view, from the counters (as_of: from the access history)'), ...errors },
});

export const usersCsvRoute = createRoute({
  method: 'get',
  path: `${REPORT_BASE}/users.csv`,
  tags: ['report'],
  summary: 'Every matching (user, entry) as CSV, streamed',
  security,
  request: { params: accountParamsSchema, query: usersCsvQuerySchema },
  responses: {
    200: { description: 'CSV with a header row', headers: positionHeader, content: { 'text/csv': { schema: z.string() } } },
    ...errors,
  },
});

export const historyRoute = createRoute({
  method: 'get',
  path: `${REPORT_BASE}/users/{user_id}/history`,
  tags: ['audit'],
  summary: "A user's access changes over time, each with the event that caused it",
  security,
  request: { params: userParamsSchema, query: historyQuerySchema },
  responses: {
    200: json(historyPageSchema, 'a page of changes in the order they were applied; follow next_cursor for the rest'),
    ...errors,
    404: problem('the user never existed in this account'),
  },
});
