/** The report rows: GET /users (paged JSON) and GET /users.csv (every row, streamed). */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { stringify } from 'csv-stringify/sync';
import { MAX_Q_WORDS, accountParamsSchema, usersCsvQuerySchema, usersQuerySchema } from '../../schemas/api.ts';
import type { UserDoc } from '../../projections/index.ts';
import { openNamedScan } from './named-reads.ts';
import { asOfMs, scanDocsAsOf, usersPageAsOf } from './as-of-reports.ts';
import type { ApiEnv } from './context.ts';
import { CSV_COLUMNS, csvRows } from './csv-rows.ts';
import { badRequest } from './problem.ts';
import { exactPositions } from '../redis/counters-reader.ts';
import { intervalSources } from './interval-sources.ts';
import { formatPositions, lagBehind, parsePositions } from './position.ts';
import { POSITION_HEADER, type ReportServices, beginRead, confirmIndex, parseMinPosition, readExactly } from './read-context.ts';
import { usersCsvRoute, usersRoute } from './route-definitions.ts';
import { type UsersFilter, type UsersSort, defaultOrder, queryWords } from './users-query.ts';
import { scanUsers, searchUsersPage } from './users-search.ts';
import { validationHook } from './validation.ts';

interface ListingQuery {
  q?: string | undefined;
  channel?: UsersFilter['channel'];
  access_type?: UsersFilter['access_type'];
  inbox_id?: string | undefined;
  cc_queue_id?: string | undefined;
  sort: UsersSort['sort'];
  order?: UsersSort['order'] | undefined;
}

function listing(accountId: string, query: ListingQuery, includeEmpty: boolean): { filter: UsersFilter; sort: UsersSort } {
  const count = queryWords(query.q).length;
  if (count > MAX_Q_WORDS) throw badRequest(`q has ${count} words`, [{ field: 'q', message: `must have at most ${MAX_Q_WORDS} words (got ${count})` }]);
  return {
    filter: { accountId, q: query.q, channel: query.channel, access_type: query.access_type, inbox_id: query.inbox_id, cc_queue_id: query.cc_queue_id, includeEmpty },
    sort: { sort: query.sort, order: query.order ?? defaultOrder(query.sort) },
  };
}

/** A file name safe in any Content-Disposition parser. */
function csvFileName(accountId: string, now: number): string {
  return `access-${accountId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64)}-${new Date(now).toISOString().slice(0, 10)}.csv`;
}

/** Adds GET /users and GET /users.csv. */
// eslint-disable-next-line max-lines-per-function -- one block per route
export function registerUsersRoutes(app: OpenAPIHono<ApiEnv>, services: ReportServices): void {
  app.openapi(
    usersRoute,
    async (c) => {
      const { account_id } = c.req.valid('param');
      const query = c.req.valid('query');
      const { filter, sort } = listing(account_id, query, query.include_empty === 'true');
      const common = { filter, sort, size: query.size, secret: services.secret };
      const at = query.as_of === undefined ? undefined : asOfMs(query.as_of);
      let page;
      if (query.cursor === undefined && at === undefined) {
        ({ value: page } = await readExactly(services, c, { ...query, accountId: account_id }, (read) =>
          searchUsersPage(services.opensearch, { ...common, index: read.live.index, position: read.position }),
        ));
      } else if (query.cursor === undefined) {
        // At T, from the account's state in Redis and the closed intervals: exact at its applied offsets (decision 47).
        const read = await beginRead(services, c, { ...query, accountId: account_id }, 'counters', false);
        const positionOf = (offsets: Map<string, bigint>) => formatPositions(exactPositions(read.positions, offsets));
        page = await usersPageAsOf({ ...common, sources: intervalSources(services, read.live), generation: read.live.space.generation, at: at!, positionOf });
        await confirmIndex(services, read.live, read.live.facts);
        c.header(POSITION_HEADER, page.position);
      } else {
        // A later page reads the listing's snapshot: its position is the answer's, whatever happened since.
        const wanted = parseMinPosition(query.min_position, services.topics);
        const live = at === undefined ? undefined : await services.live();
        page =
          at === undefined
            ? await searchUsersPage(services.opensearch, { ...common, index: '', cursor: query.cursor, position: '' })
            : await usersPageAsOf({ ...common, sources: intervalSources(services, live!), generation: live!.space.generation, at, cursor: query.cursor, positionOf: () => '' });
        const snapshot = parsePositions(page.position);
        if (wanted && snapshot.ok && lagBehind(wanted, snapshot.positions).length > 0)
          throw badRequest('the listing of this cursor predates min_position; start again without the cursor', [{ field: 'cursor', message: 'older than min_position' }]);
        c.header(POSITION_HEADER, page.position);
      }
      return c.json({ items: page.rows, total: page.total, next_cursor: page.nextCursor, position: page.position }, 200);
    },
    validationHook({ params: accountParamsSchema, query: usersQuerySchema }),
  );

  app.openapi(
    usersCsvRoute,
    async (c) => {
      const { account_id } = c.req.valid('param');
      const query = c.req.valid('query');
      const { filter, sort } = listing(account_id, query, false);
      const accountQuery = { ...query, accountId: account_id };
      let users: AsyncGenerator<UserDoc>;
      // The first page is read before answering, so that a failure to start is still a proper problem.
      let next: IteratorResult<UserDoc, unknown>;
      if (query.as_of === undefined) {
        // Named as the account's inboxes and queues were at the export's position (decision 64).
        ({ docs: users, first: next } = await openNamedScan(services, c, accountQuery, (scope) => scanUsers(services.opensearch, scope.live.index, filter, sort)));
      } else {
        const read = await beginRead(services, c, accountQuery, 'counters');
        users = scanDocsAsOf(intervalSources(services, read.live), asOfMs(query.as_of), filter, sort, (offsets) =>
          c.header(POSITION_HEADER, formatPositions(exactPositions(read.positions, offsets))),
        );
        next = await users.next();
        await confirmIndex(services, read.live, read.live.facts);
      }
      let headerSent = false;
      const log = c.var.log;
      const body = new ReadableStream<string>({
        async pull(controller) {
          try {
            const rows: string[][] = [];
            while (!next.done && rows.length < 1000) {
              rows.push(...csvRows(next.value, filter));
              next = await users.next();
            }
            // A byte order mark, so spreadsheets read names like "Müller" as UTF-8.
            const head = headerSent ? '' : `\uFEFF${stringify([[...CSV_COLUMNS]])}`;
            headerSent = true;
            const text = head + (rows.length > 0 ? stringify(rows) : '');
            if (text) controller.enqueue(text);
            if (next.done) controller.close();
          } catch (error) {
            // Headers are gone: breaking the stream is the only way to tell the client it is incomplete.
            log.error({ err: error }, 'CSV export failed midway');
            controller.error(error);
          }
        },
        async cancel() {
          await users.return(undefined);
        },
      });
      return c.body(body.pipeThrough(new TextEncoderStream()), 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="${csvFileName(account_id, services.now())}"`,
        'Cache-Control': 'no-store',
      });
    },
    validationHook({ params: accountParamsSchema, query: usersCsvQuerySchema }),
  );
}
