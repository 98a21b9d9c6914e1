/**
 * GET /users/{user_id}/history: the user's access changes over time by event time, each with the
 * event that caused it, derived on read from the fact intervals of the live generation, the same
 * intervals `as_of` reads (src/audit/history-changes.ts, decision 30): the closed ones from the
 * index and Redis's outbox, the open ones from Redis's raw facts (decision 47).
 *
 * The answer reflects exactly its `position`: an interval opened by an event beyond the published
 * position is left out and one closed by such an event is still open, so every page of one listing
 * shows the same history, and the next listing picks up what happened since.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { type HistoryItem, historyQuerySchema, userParamsSchema } from '../../schemas/api.ts';
import { type ChangeKey, type HistoryChange, changeKey, compareChangeKeys, deriveChanges, reflects } from '../audit/history-changes.ts';
import { factsBySubject, userFacts } from '../audit/user-facts.ts';
import { AppError } from '../errors.ts';
import type { FactIntervalRecord } from '../records/fact-intervals.ts';
import type { ApiEnv } from './context.ts';
import { intervalSources } from './interval-sources.ts';
import type { LiveGeneration } from './live-generation.ts';
import { decodeCursor, encodeCursor, filterHash } from './cursor.ts';
import { type Positions, lagBehind, parsePositions } from './position.ts';
import { badRequest } from './problem.ts';
import { POSITION_HEADER, type ReportServices, beginRead, confirmIndex, parseMinPosition } from './read-context.ts';
import { historyRoute } from './route-definitions.ts';
import { translate } from './users-search.ts';
import { validationHook } from './validation.ts';

/** A change as the API shows it. */
export function historyItem(change: HistoryChange): HistoryItem {
  const e = change.event;
  const common = { at: e.time, event: { id: e.event_id, type: e.type, topic: e.topic, partition: e.partition, offset: e.offset, time: e.time } };
  if (change.kind === 'profile') return { ...common, kind: 'profile', change: change.change, profile: change.profile, previous: change.previous };
  return { ...common, kind: 'entry', change: change.change, access_type: change.entry.access_type, target: change.entry.target, entry: change.entry, previous: change.previous };
}

const GENERATION_PREFIX = 'generation:';
/** Part of every history cursor's filter hash: cursors of the earlier history (ordered by application) do not fit. */
const CURSOR_ORDER = 'event-time';

function isChangeKey(value: unknown[]): value is ChangeKey {
  return value.length === 3 && typeof value[0] === 'number' && typeof value[1] === 'number' && typeof value[2] === 'string';
}

/** Adds GET /users/{user_id}/history. */
// eslint-disable-next-line max-lines-per-function -- one block per route
export function registerHistoryRoutes(app: OpenAPIHono<ApiEnv>, services: ReportServices): void {
  app.openapi(
    historyRoute,
    async (c) => {
      const { account_id, user_id } = c.req.valid('param');
      const query = c.req.valid('query');
      const hash = filterHash({ history: CURSOR_ORDER, account: account_id, user: user_id });
      let positions: Positions;
      let position: string;
      let live: LiveGeneration;
      let generation: string;
      let after: ChangeKey | undefined;
      let delivered = 0;
      if (query.cursor === undefined) {
        const read = await beginRead(services, c, { ...query, accountId: account_id });
        ({ positions, position, live } = read);
        generation = live.space.generation;
      } else {
        const decoded = decodeCursor(query.cursor, services.secret);
        if (!decoded || !decoded.pit.startsWith(GENERATION_PREFIX) || !isChangeKey(decoded.after))
          throw badRequest('the cursor is not one this API gave out', [{ field: 'cursor', message: 'not a valid cursor' }]);
        if (decoded.filter !== hash)
          throw badRequest('the cursor belongs to another user’s history; start again without it', [{ field: 'cursor', message: 'does not match the filters' }]);
        live = await services.live();
        generation = live.space.generation;
        if (decoded.pit !== GENERATION_PREFIX + generation)
          throw badRequest('the index was rebuilt since this listing began; start again without the cursor', [{ field: 'cursor', message: 'expired' }]);
        const parsed = parsePositions(decoded.position);
        if (!parsed.ok) throw badRequest('the cursor is not one this API gave out', [{ field: 'cursor', message: 'not a valid cursor' }]);
        const wanted = parseMinPosition(query.min_position, services.topics);
        if (wanted && lagBehind(wanted, parsed.positions).length > 0)
          throw badRequest('the listing of this cursor predates min_position; start again without the cursor', [{ field: 'cursor', message: 'older than min_position' }]);
        positions = parsed.positions;
        position = decoded.position;
        after = decoded.after;
        delivered = decoded.delivered;
        c.header(POSITION_HEADER, position);
      }

      let records: FactIntervalRecord[];
      try {
        records = await userFacts(user_id, factsBySubject(intervalSources(services, live), account_id));
      } catch (error) {
        throw translate(error, false);
      }
      // The closed intervals came from the facts index: one restored from an older snapshot is refused.
      await confirmIndex(services, live, live.facts);
      let changes = deriveChanges(user_id, records, (event) => reflects(positions, event));
      if (after) changes = changes.filter((ch) => compareChangeKeys(changeKey(ch), after) > 0);
      else if (changes.length === 0) throw new AppError('not_found', `this account never had a user ${JSON.stringify(user_id)}`);
      const page = changes.slice(0, query.size);
      const more = changes.length > page.length;
      const nextCursor = more
        ? encodeCursor(
            { pit: GENERATION_PREFIX + generation, after: changeKey(page[page.length - 1]!), filter: hash, delivered: delivered + page.length, position },
            services.secret,
          )
        : null;
      return c.json({ account_id, user_id, items: page.map(historyItem), next_cursor: nextCursor, position }, 200);
    },
    validationHook({ params: userParamsSchema, query: historyQuerySchema }),
  );
}
