/** The report routes answered from counters and single documents: summary, drill-down, queues, inboxes. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ACCESS_TYPES, type UserDoc, filterEntries, rowFromEntries } from '../../projections/index.ts';
import { accountParamsSchema, inboxesQuerySchema, queuesQuerySchema, summaryQuerySchema, userParamsSchema, userQuerySchema } from '../../schemas/api.ts';
import { AppError } from '../errors.ts';
import { asOfMs, summaryAsOf, userAsOf } from './as-of-reports.ts';
import type { ApiEnv } from './context.ts';
import { inboxesAsOf, queuesAsOf } from './as-of-views.ts';
import { intervalSources } from './interval-sources.ts';
import { type AccountOffsets, exactPositions, readInboxes, readQueues, readSummary } from '../redis/counters-reader.ts';
import { formatPositions } from './position.ts';
import { POSITION_HEADER, type ReportServices, beginRead, confirmIndex } from './read-context.ts';
import { inboxesRoute, queuesRoute, summaryRoute, userRoute } from './route-definitions.ts';
import { readNamedUser } from './named-reads.ts';
import { validationHook } from './validation.ts';

/**
 * The position an account's counters (or its state read for an `as_of` answer) reflect exactly
 * (counters-reader exactPositions), set as the header too.
 */
function exactPosition(c: Context, generation: ReadonlyMap<string, bigint>, offsets: AccountOffsets): string {
  const position = formatPositions(exactPositions(generation, offsets));
  c.header(POSITION_HEADER, position);
  return position;
}

/** Adds GET /summary, /users/{user_id}, /queues and /inboxes. */
// eslint-disable-next-line max-lines-per-function -- one block per route
export function registerReportRoutes(app: OpenAPIHono<ApiEnv>, services: ReportServices): void {
  app.openapi(
    summaryRoute,
    async (c) => {
      const { account_id } = c.req.valid('param');
      const query = c.req.valid('query');
      // The live summary is read from Redis counters: it waits only for the Redis commit of min_position.
      // An as_of view checks the facts index once, after its read (confirmIndex).
      const read = await beginRead(services, c, { ...query, accountId: account_id }, 'counters', false);
      if (query.as_of === undefined) {
        const { offsets, ...summary } = await readSummary(services.redis, read.live.space, account_id, query.channel ?? 'all');
        const position = exactPosition(c, read.positions, offsets);
        return c.json({ account_id, channel: query.channel ?? null, ...summary, position }, 200);
      }
      const { value: summary, offsets } = await summaryAsOf(intervalSources(services, read.live), account_id, asOfMs(query.as_of), query.channel ?? 'all');
      await confirmIndex(services, read.live, read.live.facts);
      return c.json({ account_id, channel: query.channel ?? null, ...summary, position: exactPosition(c, read.positions, offsets) }, 200);
    },
    validationHook({ params: accountParamsSchema, query: summaryQuerySchema }),
  );

  app.openapi(
    userRoute,
    async (c) => {
      const { account_id, user_id } = c.req.valid('param');
      const query = c.req.valid('query');
      let doc: UserDoc | null;
      let position: string;
      if (query.as_of === undefined) {
        // The index stores no names: the entries are named as they were at the answer's position (decision 64).
        const filter = { channel: query.channel, access_type: query.access_type, inbox_id: query.inbox_id, cc_queue_id: query.cc_queue_id };
        const { scope, doc: named } = await readNamedUser(services, c, { ...query, accountId: account_id }, user_id, filter);
        ({ position } = scope);
        doc = named;
      } else {
        // At T, from the account's state in Redis and the closed intervals: exact at its applied offsets (decision 47).
        const read = await beginRead(services, c, { ...query, accountId: account_id }, 'counters', false);
        const answer = await userAsOf(intervalSources(services, read.live), account_id, user_id, asOfMs(query.as_of));
        await confirmIndex(services, read.live, read.live.facts);
        position = exactPosition(c, read.positions, answer.offsets);
        doc = answer.value;
      }
      if (!doc) throw new AppError('not_found', `this account has no user ${JSON.stringify(user_id)}${query.as_of === undefined ? '' : ` at ${query.as_of}`}`);
      const entries = filterEntries(doc.entries, { channel: query.channel, access_type: query.access_type, inbox_id: query.inbox_id, cc_queue_id: query.cc_queue_id });
      return c.json(
        {
          ...rowFromEntries(doc, entries),
          entries,
          position,
        },
        200,
      );
    },
    validationHook({ params: userParamsSchema, query: userQuerySchema }),
  );

  app.openapi(
    queuesRoute,
    async (c) => {
      const { account_id } = c.req.valid('param');
      const query = c.req.valid('query');
      const read = await beginRead(services, c, { ...query, accountId: account_id }, 'counters', false);
      if (query.as_of !== undefined) {
        const { value: items, offsets } = await queuesAsOf(intervalSources(services, read.live), account_id, asOfMs(query.as_of), query);
        await confirmIndex(services, read.live, read.live.facts);
        return c.json({ items, position: exactPosition(c, read.positions, offsets) }, 200);
      }
      const types = query.access_type ? [query.access_type] : ACCESS_TYPES;
      const { rows: items, offsets } = await readQueues(services.redis, read.live.space, account_id, query.channel ?? 'all', types);
      return c.json({ items, position: exactPosition(c, read.positions, offsets) }, 200);
    },
    validationHook({ params: accountParamsSchema, query: queuesQuerySchema }),
  );

  app.openapi(
    inboxesRoute,
    async (c) => {
      const { account_id } = c.req.valid('param');
      const query = c.req.valid('query');
      const read = await beginRead(services, c, { ...query, accountId: account_id }, 'counters', false);
      if (query.as_of !== undefined) {
        const { value: items, offsets } = await inboxesAsOf(intervalSources(services, read.live), account_id, asOfMs(query.as_of), query);
        await confirmIndex(services, read.live, read.live.facts);
        return c.json({ items, position: exactPosition(c, read.positions, offsets) }, 200);
      }
      const { rows: items, offsets } = await readInboxes(services.redis, read.live.space, account_id, query.channel ?? 'all');
      return c.json({ items, position: exactPosition(c, read.positions, offsets) }, 200);
    },
    validationHook({ params: accountParamsSchema, query: inboxesQuerySchema }),
  );
}
