/**
 * Polls a running API the way an admin's browser would during a fault: for random accounts, the
 * summary, every page of the users listing, and a drill-down of a random user, each with a random
 * channel filter half of the time (and, when asked, each again `as_of` an instant after every event
 * or a random event's time). Every answer is judged by the oracle at the answer's own
 * position (answer-judge.ts): ok, ahead, refused, wrong or error. An answer older than an earlier
 * one is fine: each is judged at its own position.
 */
import { CHANNELS, type Channel } from '../../projections/index.ts';
import { mintToken } from '../../src/api/tokens.ts';
import { type PollReport, createAnswerJudge } from './answer-judge.ts';
import type { AnswerContext, AnswerKind, Oracle } from './oracle.ts';

export type { JudgedAnswer, Outcome, PollReport } from './answer-judge.ts';

export interface AnswerPollerOptions {
  /** the API's base URL, e.g. http://127.0.0.1:8080/ */
  baseUrl: string;
  /** ACCESS_INDEX_JWT_SECRET of the service */
  secret: string;
  oracle: Oracle;
  /** default: the oracle's accounts when polling starts */
  accounts?: readonly string[];
  /** stop after this many answers (default 300) or this long (default 60 s), whichever first */
  maxAnswers?: number;
  maxMs?: number;
  /** pause between rounds (default 20 ms) */
  pauseMs?: number;
  /** page size of GET /users (default 100, so that bigger accounts take several pages) */
  pageSize?: number;
  /** ask with a random channel filter half of the time (default true) */
  channels?: boolean;
  /**
   * ask each route a second time `as_of` an instant after every event or a random event's time
   * (default false): the answer from the fact intervals (Redis's raw facts and outbox, the index's
   * closed records) must be the replay of the events up to its own position and that instant
   */
  asOf?: boolean;
  /** a seeded random source in [0, 1) for reproducible rounds (default Math.random) */
  random?: () => number;
}

/** An `as_of` after every event of the test histories: the answer is the state at its position. */
const AFTER_EVERY_EVENT = Date.parse('2999-01-01T00:00:00Z');

export interface AnswerPoller {
  /** Starts polling in the background (once). */
  start(): void;
  /** Resolves with the final tallies when a bound (answers or time) is reached, or after stop(). */
  readonly done: Promise<PollReport>;
  /** Stops after the request in flight and returns the final tallies. */
  stop(): Promise<PollReport>;
  /** The tallies so far (answers awaiting their final judgement are not in them). */
  report(): PollReport;
}

interface Answer {
  status: number;
  body: unknown;
  type: string;
  /** the X-Access-Index-Position header */
  position: string | null;
}

/** The offsets of an answer may be newer than the oracle's knowledge for a moment (see onRecorded). */
const COVER_WAIT_MS = 5_000;

/** A poller over the API at `options.baseUrl`; nothing is requested before start(). */
export function createAnswerPoller(options: AnswerPollerOptions): AnswerPoller {
  const { oracle } = options;
  const random = options.random ?? Math.random;
  const size = options.pageSize ?? 100;
  const judge = createAnswerJudge(oracle);
  const tokens = new Map<string, Promise<string>>();
  let stopping = false;
  let started = 0;
  let finish!: (report: PollReport) => void;
  const done = new Promise<PollReport>((resolve) => (finish = resolve));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const elapsed = () => (started ? Date.now() - started : 0);

  async function get(account: string, path: string): Promise<Answer> {
    let token = tokens.get(account);
    if (!token) tokens.set(account, (token = mintToken({ secret: options.secret, accountId: account })));
    const url = new URL(`v1/accounts/${encodeURIComponent(account)}/access${path}`, options.baseUrl);
    const response = await fetch(url, { headers: { authorization: `Bearer ${await token}` }, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: judged as an error
    }
    return { status: response.status, body, type: response.headers.get('content-type') ?? '', position: response.headers.get('x-access-index-position') };
  }

  /** Every page of GET /users as one body; a failed page is the answer of the whole listing. */
  async function listUsers(account: string, query: string): Promise<Answer> {
    const first = await get(account, `/users?size=${size}${query}`);
    if (first.status !== 200) return first;
    const page = first.body as { items: unknown[]; total: number; next_cursor: string | null; position: string };
    const items = [...page.items];
    for (let cursor = page.next_cursor, n = 2; cursor !== null; n++) {
      if (n > 1000) return { ...first, status: 0, body: 'more than 1000 pages: a cursor loop?' };
      const next = await get(account, `/users?size=${size}${query}&cursor=${encodeURIComponent(cursor)}`);
      if (next.status !== 200) return next;
      const body = next.body as typeof page;
      if (body.position !== page.position) return { ...next, status: 0, body: `page ${n} has position ${body.position}, the first ${page.position}` };
      items.push(...body.items);
      cursor = body.next_cursor;
    }
    return { ...first, body: { ...page, items, next_cursor: null } };
  }

  async function covered(position: string): Promise<void> {
    const deadline = Date.now() + COVER_WAIT_MS;
    while (!oracle.covers(position) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /**
   * A 404 of a drill-down. With a position header it is judged exactly. Without one (today's API
   * drops the header on errors) by what ids allow: an id is never reused, so a user that exists
   * both at the position of this round's listing and in the replay of everything produced existed
   * all along, and a 404 for it is wrong; otherwise it cannot be proven wrong.
   */
  function notFound(route: string, account: string, userId: string, answer: Answer, listed: string | null, asOfMs?: number): void {
    const at = (position: string) => oracle.expectUser(account, userId, position, {}, asOfMs) !== null;
    const judged = { route, status: 404, position: answer.position };
    if (answer.position !== null) {
      const wrong = at(answer.position);
      return judge.record(wrong ? 'wrong' : 'ok', { ...judged, note: wrong ? `404, but user ${userId} exists at this position` : '' });
    }
    if (!at(oracle.latestPosition())) return judge.record('ok', { ...judged, note: '' });
    if (listed === null) return judge.record('error', { ...judged, note: `404 without a position for ${userId}, who exists in the latest replay; no listing to judge by` });
    const wrong = at(listed);
    judge.record(wrong ? 'wrong' : 'ok', {
      ...judged,
      note: wrong ? `404 (no position), but user ${userId} exists from the listing's position ${listed} to the latest replay` : '',
    });
  }

  async function round(account: string): Promise<void> {
    const channel: Channel | undefined = options.channels !== false && random() < 0.5 ? pick(CHANNELS) : undefined;
    const context: AnswerContext = channel ? { channel } : {};
    const calls: [string, AnswerKind, () => Promise<Answer>, AnswerContext][] = [];
    const users = oracle.userIds(account);
    const userId = users.length > 0 ? pick(users) : undefined;
    const times = oracle.eventTimes(account);
    // Live, then (when asked) as_of an instant after every event or at a random event's time.
    const instants: (number | undefined)[] = [undefined];
    if (options.asOf) instants.push(times.length > 0 && random() < 0.5 ? pick(times) : AFTER_EVERY_EVENT);
    for (const asOfMs of instants) {
      const q = [channel ? `channel=${channel}` : '', asOfMs === undefined ? '' : `as_of=${new Date(asOfMs).toISOString()}`].filter((p) => p !== '').join('&');
      const label = q === '' ? '' : `?${q}`;
      const ctx: AnswerContext = asOfMs === undefined ? context : { ...context, asOfMs };
      calls.push([`summary${label}`, 'summary', () => get(account, `/summary${label}`), ctx]);
      calls.push([`users${label}`, 'users', () => listUsers(account, q === '' ? '' : `&${q}`), ctx]);
      if (userId !== undefined) calls.push([`users/${userId}${label}`, 'user', () => get(account, `/users/${encodeURIComponent(userId)}${label}`), { ...ctx, userId }]);
    }
    let listed: string | null = null;
    for (const [route, kind, call, ctx] of calls) {
      if (stopping) return;
      let answer: Answer;
      try {
        answer = await call();
      } catch (error) {
        judge.record('error', { route, status: 0, position: null, note: error instanceof Error ? error.message : String(error) });
        continue;
      }
      const position = (answer.body as { position?: unknown } | null)?.position ?? answer.position;
      if (typeof position === 'string') await covered(position);
      if (answer.status === 200) judge.answered(route, kind, account, answer.body, ctx);
      else if (answer.status === 404 && kind === 'user') notFound(route, account, ctx.userId!, answer, listed, ctx.asOfMs);
      else judge.failed(route, answer.status, answer.type, answer.body, answer.position);
      if (kind === 'users' && answer.status === 200 && ctx.asOfMs === undefined) listed = (answer.body as { position: string }).position;
    }
  }

  async function loop(): Promise<void> {
    const accounts = options.accounts ?? oracle.accounts();
    while (!stopping && judge.count() < (options.maxAnswers ?? 300) && elapsed() < (options.maxMs ?? 60_000)) {
      await round(pick(accounts));
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 20));
    }
  }

  return {
    done,
    start() {
      if (started) return;
      started = Date.now();
      void loop()
        .catch((error: unknown) => judge.record('error', { route: '(poller)', status: 0, position: null, note: String(error) }))
        .then(() => finish(judge.settle(elapsed())));
    },
    async stop() {
      stopping = true;
      if (!started) finish(judge.settle(0));
      return done;
    },
    report: () => judge.report(elapsed()),
  };
}
