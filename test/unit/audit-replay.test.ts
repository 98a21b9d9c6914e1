/** The replay command's options and output, and the replay's report on the core's documents. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEDUPE_WINDOW_MS, type FactEvent } from '../../projections/index.ts';
import { auditReport, replayUntil } from '../../src/audit/replay.ts';
import { parseReplayOptions, replayJson, replayTable } from '../../src/cli/commands/replay.ts';
import { createEventBuilder } from '../support/builders.ts';

describe('replay', () => {
  it('checks every option at once', () => {
    expect(() => parseReplayOptions({ account: 'a', until: 'yesterday', channel: 'fax', format: 'xml' })).toThrow(
      /--until must be an RFC 3339[\s\S]*--channel must be one of[\s\S]*--format must be json or table/,
    );
    expect(parseReplayOptions({ account: 'a', until: '2026-03-01T10:00:00+01:00', format: 'json' })).toEqual({
      accountId: 'a',
      untilMs: Date.parse('2026-03-01T09:00:00Z'),
      until: '2026-03-01T10:00:00+01:00',
      channel: undefined,
      format: 'json',
    });
  });

  it('replays the events up to T, each topic in order, and reports summary, rows and drill-downs', () => {
    const b = createEventBuilder(Date.parse('2026-03-01T09:00:00Z'));
    const users: FactEvent[] = [b.user('u1', 'Bo'), b.user('u2', 'Ana')];
    const inboxes: FactEvent[] = [b.inbox('i1'), b.grantUser('i1', 'u1'), b.grantUser('i1', 'u2'), b.revokeUser('i1', 'u1')];
    const byTopic = new Map([
      ['users', users],
      ['inboxes', inboxes],
    ] as const);
    const at = inboxes[2]!.timeMs; // before the revocation
    const { docs, applied } = replayUntil(byTopic, at, DEFAULT_DEDUPE_WINDOW_MS);
    expect(applied).toBe(5);
    const report = auditReport(docs.values());
    expect(report.summary.all.users.total).toBe(2);
    expect(report.summary.video.users.total).toBe(0);
    expect(report.rows.map((r) => r.user_id)).toEqual(['u2', 'u1']); // by name
    expect(report.users[0]!.entries.map((e) => e.target.id)).toEqual(['i1']);
    const result = { accountId: 'acc', untilMs: at, scanned: 9, events: 6, applied, poison: 0, ends: new Map([['zcc.users:0', 1n]]), ...report };
    const text = replayTable(result, '2026-03-01T09:00:05Z', undefined);
    expect(text).toContain('account acc as of 2026-03-01T09:00:05Z: 5 events applied (of 6 events of the account; 9 messages read, 0 unusable)');
    expect(text).toMatch(/users with access\s+2\s+2\s+0\s+0\s+0/);
    expect(text).toMatch(/u2\s+Ana\s+u2@example.com\s+active\s+1\s+inbox/);
    expect(replayJson(result, '2026-03-01T09:00:05Z', 'voice')).toMatchObject({ account_id: 'acc', channel: 'voice', read_up_to: 'zcc.users:0:1', events: { applied: 5 } });
  });
});
