import { describe, expect, it } from 'vitest';
import { allDocs, DEFAULT_DEDUPE_WINDOW_MS, replay, summarize, type FactEvent, type Rule, type UserDoc } from '../../projections/index.ts';
import { generateHistory, testPreset } from '../../src/demo/generator.ts';

/** The test preset replayed through the pure core, one account at a time. */
function replayTestPreset(): Map<string, UserDoc[]> {
  const perAccount = new Map<string, FactEvent[]>();
  for (const { key, value } of generateHistory({ seed: 42, ...testPreset() })) {
    const events = perAccount.get(key) ?? [];
    events.push({ id: value.id, type: value.type, timeMs: Date.parse(value.time), data: value.data } as FactEvent);
    perAccount.set(key, events);
  }
  const docs = new Map<string, UserDoc[]>();
  for (const [account, events] of perAccount) docs.set(account, [...allDocs(replay(events, DEFAULT_DEDUPE_WINDOW_MS).facts).values()]);
  return docs;
}

describe('the test preset through the access rules', () => {
  const docs = replayTestPreset();
  const all = [...docs.values()].flat();
  const withType = (type: string) => all.filter((doc) => doc.entries.some((entry) => entry.access_type === type)).length;

  it('gives a good share of users each access type, by every rule', () => {
    const reported = all.filter((doc) => doc.entries.length > 0).length;
    expect(all.length).toBeGreaterThan(400);
    expect(reported / all.length).toBeGreaterThan(0.6);
    expect(withType('inbox') / all.length).toBeGreaterThan(0.3);
    expect(withType('automatic_call_recording') / all.length).toBeGreaterThan(0.05);
    expect(withType('ad_hoc_call_recording') / all.length).toBeGreaterThan(0.05);
    // Users with no entry at all exist too (kept in the index, not in the report).
    expect(reported).toBeLessThan(all.length);

    const rules = new Set<Rule>(all.flatMap((doc) => doc.entries.flatMap((entry) => entry.granted_by.map((path) => path.rule))));
    expect([...rules].sort()).toEqual(['ad_hoc_recording', 'automatic_recording', 'automatic_recording_inbox', 'inbox_queue_grant', 'inbox_user_grant']);
    const channels = new Set(all.flatMap((doc) => doc.entries.flatMap((entry) => entry.channels)));
    expect(channels.size).toBeGreaterThanOrEqual(3);
    expect(all.some((doc) => doc.user_access === 'inactive' && doc.entries.length > 0)).toBe(true);
    // Someone reaches one target by several paths (the drill-down has something to explain).
    expect(all.some((doc) => doc.entries.some((entry) => entry.granted_by.length > 1))).toBe(true);
  });

  it('summarizes every account with users and queues of each type', () => {
    const lines: string[] = [];
    for (const [account, accountDocs] of docs) {
      const summary = summarize(accountDocs);
      expect(summary.users.total).toBeGreaterThan(0);
      expect(summary.users.inbox).toBeGreaterThan(0);
      expect(summary.users.automatic_call_recording).toBeGreaterThan(0);
      expect(summary.users.ad_hoc_call_recording).toBeGreaterThan(0);
      expect(summary.inboxes).toBeGreaterThan(0);
      lines.push(
        `${account.padEnd(15)} users ${String(accountDocs.length).padStart(4)}  reported ${String(summary.users.total).padStart(4)}` +
          `  inbox ${String(summary.users.inbox).padStart(4)}  automatic ${String(summary.users.automatic_call_recording).padStart(4)}` +
          `  ad hoc ${String(summary.users.ad_hoc_call_recording).padStart(4)}  queues ${JSON.stringify(summary.queues)}  inboxes ${summary.inboxes}`,
      );
    }
    console.info(`test preset through the rules:\n${lines.join('\n')}`);
  });
});
