/**
 * Judging API answers with the oracle, and the tallies of a polling run.
 *
 * A 200 that differs from the replay at its own position is kept and judged again when the run
 * ends: if it equals the replay at a position the service published in another answer (at or
 * after its own in every partition), it is `ahead`: a true state of the history, but newer than
 * the position it names. Today's API does that while events arrive (it reads the positions, then
 * the data, which the projector writes before it publishes their positions). Anything else that
 * differs is `wrong`: a state no replay gives.
 */
import { parsePosition } from './answer-diff.ts';
import type { AnswerContext, AnswerKind, Oracle } from './oracle.ts';

export type Outcome = 'ok' | 'ahead' | 'refused' | 'wrong' | 'error';

export interface JudgedAnswer {
  route: string;
  status: number;
  position: string | null;
  /** the difference (wrong, ahead), the detail (refused) or what went wrong (error) */
  note: string;
  /** when the answer came (ISO), to set it beside the service's log */
  at?: string;
}

export interface PollReport {
  ok: number;
  ahead: number;
  refused: number;
  wrong: number;
  error: number;
  /** each refusal detail with how often it was seen */
  refusals: Map<string, number>;
  /** the first few of each */
  wrongs: JudgedAnswer[];
  aheads: JudgedAnswer[];
  errors: JudgedAnswer[];
  elapsedMs: number;
}

interface Pending extends JudgedAnswer {
  kind: AnswerKind;
  account: string;
  body: Record<string, unknown>;
  context: AnswerContext;
}

const KEEP = 5;
/** Differing answers kept for the final judgement; past this they count as wrong at once. */
const MAX_PENDING = 500;
/** Published positions tried per kept answer, nearest first (each may cost a replay). */
const MAX_CANDIDATES = 40;

/** `a` is at or after `b` in every partition `b` names. */
function atOrAfter(a: Map<string, bigint>, b: Map<string, bigint>): boolean {
  return [...b].every(([field, offset]) => (a.get(field) ?? -1n) >= offset);
}

export function createAnswerJudge(oracle: Oracle) {
  const tally: PollReport = { ok: 0, ahead: 0, refused: 0, wrong: 0, error: 0, refusals: new Map(), wrongs: [], aheads: [], errors: [], elapsedMs: 0 };
  const pending: Pending[] = [];
  const published = new Set<string>();

  function record(outcome: Outcome, answer: JudgedAnswer): void {
    tally[outcome] += 1;
    if (outcome === 'refused') tally.refusals.set(answer.note, (tally.refusals.get(answer.note) ?? 0) + 1);
    const kept = outcome === 'wrong' ? tally.wrongs : outcome === 'ahead' ? tally.aheads : outcome === 'error' ? tally.errors : undefined;
    if (kept && kept.length < KEEP)
      kept.push({ route: answer.route, status: answer.status, position: answer.position, note: answer.note, ...(answer.at ? { at: answer.at } : {}) });
  }

  /** The nearest other published position (at most MAX_CANDIDATES tried) whose replay equals the answer. */
  function laterMatch(p: Pending): string | undefined {
    const own = parsePosition(p.position ?? '');
    if (typeof own === 'string') return undefined;
    const candidates: [string, bigint][] = [];
    // The positions the service published, and everything produced (a state it may hold unpublished).
    for (const candidate of new Set([...published, oracle.latestPosition()])) {
      const at = parsePosition(candidate);
      if (candidate === p.position || typeof at === 'string' || !atOrAfter(at, own)) continue;
      candidates.push([candidate, [...at.values()].reduce((a, b) => a + b, 0n)]);
    }
    candidates.sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0));
    return candidates.slice(0, MAX_CANDIDATES).find(([candidate]) => oracle.matchesAt(p.kind, p.account, p.body, candidate, p.context))?.[0];
  }

  return {
    record,
    /** Answers judged so far (pending ones included). */
    count: () => tally.ok + tally.ahead + tally.refused + tally.wrong + tally.error + pending.length,
    /** A 200 answer: ok, or kept for the final judgement. */
    answered(route: string, kind: AnswerKind, account: string, body: unknown, context: AnswerContext): void {
      const position = (body as { position?: unknown } | null)?.position;
      if (typeof position === 'string') published.add(position);
      const note = oracle.checkAnswer(kind, account, body, context);
      const judged = { route, status: 200, position: typeof position === 'string' ? position : null, note: note ?? '', at: new Date().toISOString() };
      if (note === null) record('ok', judged);
      else if (pending.length < MAX_PENDING && typeof position === 'string') pending.push({ ...judged, kind, account, body: body as Record<string, unknown>, context });
      else record('wrong', judged);
    },
    /** A non-200 answer: a 503 problem+json with a detail is a refusal, anything else an error. */
    failed(route: string, status: number, contentType: string, body: unknown, position: string | null): void {
      const detail = (body as { detail?: unknown } | null)?.detail;
      const refused = status === 503 && contentType.startsWith('application/problem+json') && typeof detail === 'string' && detail !== '';
      record(refused ? 'refused' : 'error', { route, status, position, note: refused ? detail : JSON.stringify(body).slice(0, 300) });
    },
    /** Judges what was kept (each against the positions published in other answers) and returns the tallies. */
    settle(elapsedMs: number): PollReport {
      for (const p of pending.splice(0)) {
        const later = laterMatch(p);
        record(later ? 'ahead' : 'wrong', later ? { ...p, note: `equals the replay at ${later}; at its own position: ${p.note}` } : p);
      }
      return this.report(elapsedMs);
    },
    /** The tallies so far (answers still pending are not in them). */
    report(elapsedMs: number): PollReport {
      return { ...tally, refusals: new Map(tally.refusals), wrongs: [...tally.wrongs], aheads: [...tally.aheads], errors: [...tally.errors], elapsedMs };
    },
  };
}

export type AnswerJudge = ReturnType<typeof createAnswerJudge>;
