import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../schemas/decode.ts';
import { TOPIC_OF_TYPE } from '../../schemas/events.ts';
import { createAccountHistory } from '../../src/demo/account.ts';
import { DEMO_SOURCE, demoPreset, generateHistory, testPreset, type GeneratedEvent } from '../../src/demo/generator.ts';
import { createRandom } from '../../src/demo/random.ts';

function take(events: Iterable<GeneratedEvent>, n: number): GeneratedEvent[] {
  const out: GeneratedEvent[] = [];
  for (const event of events) {
    if (out.length === n) break;
    out.push(event);
  }
  return out;
}

const history = [...generateHistory({ seed: 42, ...testPreset() })];

/**
 * Replays the story with its own bookkeeping and lists what a real contact center could not have
 * sent: a relation to an entity that does not exist (yet, or any more), a relation added twice or
 * removed while absent, an id upserted again after its deletion.
 */
function checkConsistency(events: readonly GeneratedEvent[]): string[] {
  const problems: string[] = [];
  const accounts = new Map<string, ReturnType<typeof emptyAccount>>();
  function emptyAccount() {
    return { alive: new Map<string, boolean>(), relations: new Set<string>(), roleOf: new Map<string, string>() };
  }
  for (const { key, value } of events) {
    const a = accounts.get(key) ?? emptyAccount();
    accounts.set(key, a);
    const problem = (what: string) => problems.push(`${value.id} ${value.type}: ${what}`);
    const live = (id: string) => a.alive.get(id) === true;
    const need = (...ids: string[]) => ids.filter((id) => !live(id)).forEach((id) => problem(`${id} does not exist`));
    const upsert = (id: string) => {
      if (a.alive.get(id) === false) problem(`${id} reused after deletion`);
      a.alive.set(id, true);
    };
    const remove = (id: string) => {
      need(id);
      a.alive.set(id, false);
      for (const relation of a.relations) if (relation.split('|').includes(id)) a.relations.delete(relation);
      for (const [user, role] of a.roleOf) if (user === id || role === id) a.roleOf.delete(user);
    };
    const relate = (relation: string, add: boolean) => {
      if (add === a.relations.has(relation)) problem(`${relation} ${add ? 'already there' : 'absent'}`);
      if (add) a.relations.add(relation);
      else a.relations.delete(relation);
    };
    switch (value.type) {
      case 'user.upserted':
        upsert(value.data.user_id);
        break;
      case 'role.upserted':
        upsert(value.data.role_id);
        break;
      case 'inbox.upserted':
        upsert(value.data.inbox_id);
        break;
      case 'queue.upserted':
        upsert(value.data.cc_queue_id);
        if (value.data.overflow_to_inbox_id !== null) need(value.data.overflow_to_inbox_id);
        break;
      case 'user.deleted':
        remove(value.data.user_id);
        break;
      case 'role.deleted':
        remove(value.data.role_id);
        break;
      case 'queue.deleted':
        remove(value.data.cc_queue_id);
        break;
      case 'inbox.deleted':
        remove(value.data.inbox_id);
        break;
      case 'role.user_assigned':
        need(value.data.role_id, value.data.user_id);
        a.roleOf.set(value.data.user_id, value.data.role_id);
        break;
      case 'role.user_unassigned':
        need(value.data.role_id, value.data.user_id);
        if (a.roleOf.get(value.data.user_id) !== value.data.role_id) problem('not the current role');
        a.roleOf.delete(value.data.user_id);
        break;
      case 'queue.member_assigned':
      case 'queue.member_unassigned':
        need(value.data.cc_queue_id, value.data.user_id);
        relate(`${value.data.cc_queue_id}|${value.data.user_id}|${value.data.member_type}`, value.type === 'queue.member_assigned');
        break;
      case 'inbox.user_granted':
      case 'inbox.user_revoked':
        need(value.data.inbox_id, value.data.user_id);
        relate(`${value.data.inbox_id}|${value.data.user_id}`, value.type === 'inbox.user_granted');
        break;
      case 'inbox.queue_granted':
      case 'inbox.queue_revoked':
        need(value.data.inbox_id, value.data.cc_queue_id);
        relate(`${value.data.inbox_id}|${value.data.cc_queue_id}`, value.type === 'inbox.queue_granted');
        break;
    }
  }
  return problems.slice(0, 10);
}

describe('determinism', () => {
  it('gives the same events for the same seed, and others for another seed', () => {
    const a = take(generateHistory({ seed: 42, ...demoPreset() }), 3_000);
    const b = take(generateHistory({ seed: 42, ...demoPreset() }), 3_000);
    const c = take(generateHistory({ seed: 43, ...demoPreset() }), 3_000);
    expect(b).toEqual(a);
    expect(c.map((e) => e.value)).not.toEqual(a.map((e) => e.value));
    expect(history).toEqual([...generateHistory({ seed: 42, ...testPreset() })]);
  });

  it("does not change an account's history when other accounts are added", () => {
    const preset = testPreset();
    const alone = [...generateHistory({ ...preset, seed: 42, accounts: preset.accounts.slice(1, 2) })];
    const id = preset.accounts[1]?.id;
    expect(alone.length).toBeGreaterThan(0);
    expect(history.filter((e) => e.key === id)).toEqual(alone);
  });
});

describe('the envelope', () => {
  it('decodes with the projector decoder, on its own topic, for every event', () => {
    const failures = history.map((e) => ({ e, result: decodeEvent({ key: e.key, value: JSON.stringify(e.value), topic: e.topic }) })).filter(({ result }) => !result.ok);
    expect(failures.slice(0, 3)).toEqual([]);
    for (const e of history) expect(e.topic).toBe(TOPIC_OF_TYPE[e.value.type]);
  });

  it('is CloudEvents 1.0 from the demo source, keyed by account, with unique ids', () => {
    const ids = new Set<string>();
    for (const { key, value } of history) {
      expect(value).toMatchObject({ specversion: '1.0', source: DEMO_SOURCE, accountid: key, datacontenttype: 'application/json' });
      ids.add(value.id);
    }
    expect(ids.size).toBe(history.length);
  });

  it('has times that increase within each account and stay in the span', () => {
    const preset = testPreset();
    const start = Date.parse(preset.startTime);
    const end = start + preset.spanDays * 86_400_000;
    const last = new Map<string, number>();
    let late = 0;
    for (const { key, value } of history) {
      const ms = Date.parse(value.time);
      expect(value.time).toBe(new Date(ms).toISOString());
      expect(ms).toBeGreaterThan(last.get(key) ?? start - 1);
      last.set(key, ms);
      if (ms > end) late++;
    }
    // Exponential gaps may run a little past the end; most of the history is inside.
    expect(late / history.length).toBeLessThan(0.05);
  });

  it('interleaves the accounts on every topic', () => {
    for (const topic of ['users', 'roles', 'queues', 'inboxes'] as const) {
      const keys = history.filter((e) => e.topic === topic).map((e) => e.key);
      const switches = keys.filter((key, i) => i > 0 && key !== keys[i - 1]).length;
      expect(new Set(keys).size, topic).toBe(3);
      expect(switches, topic).toBeGreaterThan(20);
    }
  });
});

describe('the story is consistent', () => {
  it('relates only entities that exist, never re-adds a relation, never reuses a deleted id', () => {
    expect(checkConsistency(history)).toEqual([]);
    expect(checkConsistency([...generateHistory({ seed: 7, ...demoPreset() })])).toEqual([]);
  });
});

describe('realism', () => {
  const users = history.flatMap((e) => (e.value.type === 'user.upserted' ? [e.value.data] : []));
  const queues = history.flatMap((e) => (e.value.type === 'queue.upserted' ? [e.value.data] : []));
  const roles = history.flatMap((e) => (e.value.type === 'role.upserted' ? [e.value.data] : []));

  it('has people from many places, with derived lower-case ASCII emails, mostly active', () => {
    const names = users.map((u) => u.display_name);
    expect(names.some((n) => /[^\x00-\x7f]/.test(n))).toBe(true);
    expect(names.some((n) => n.includes("'"))).toBe(true);
    expect(new Set(names).size).toBeGreaterThan(300);
    for (const u of users) expect(u.user_email).toMatch(/^[a-z0-9]+\.[a-z0-9]+@([a-z]+\.)?[a-z0-9-]+\.example$/);
    const inactive = users.filter((u) => u.user_access === 'inactive').length;
    expect(inactive).toBeGreaterThan(0);
    expect(inactive / users.length).toBeLessThan(0.2);
  });

  it('has voice as the main channel, overflow inboxes, and recording mostly automatic on voice', () => {
    const count = (channel: string) => queues.filter((q) => q.channel === channel).length;
    expect(count('voice')).toBeGreaterThan(count('messaging'));
    expect(count('messaging')).toBeGreaterThan(0);
    expect(count('email') + count('video')).toBeGreaterThan(0);
    const voice = queues.filter((q) => q.channel === 'voice');
    expect(voice.filter((q) => q.recording.automatic).length / voice.length).toBeGreaterThan(0.4);
    expect(voice.some((q) => q.recording.ad_hoc)).toBe(true);
    expect(queues.some((q) => q.overflow_to_inbox_id !== null)).toBe(true);
    expect(queues.some((q) => q.queue_name.includes(' – '))).toBe(true);
  });

  it('has the usual roles, with recording privileges where they belong', () => {
    const first = (name: string) => roles.find((r) => r.role_name === name)?.privileges ?? [];
    expect(first('Agent').some((p) => p.startsWith('Voice') || p.startsWith('Recording'))).toBe(false);
    expect(first('Supervisor')).toEqual(expect.arrayContaining(['VoiceRecordingAccess:Read', 'RecordingPlay:Edit']));
    expect(first('QA Analyst')).toEqual(expect.arrayContaining(['RecordingPlay:Edit', 'VoiceRecordingDownload:Edit']));
    expect(first('Admin')).toEqual(
      expect.arrayContaining(['VoiceRecordingAccess:Read', 'RecordingPlay:Edit', 'VoiceRecordingDownload:Edit', 'VoiceRecordingDelete:Edit', 'Reports:Read']),
    );
  });

  it('makes membership moves the largest share of the churn', () => {
    const account = createAccountHistory({ agents: 2_000, queues: 60, inboxes: 25, roles: 8 }, 'churn.example', createRandom(3), 120_000);
    while (account.phase === 'bootstrap') account.next();
    // Long enough for the rare changes (a custom role made, then deleted) to happen too.
    const CHURN = 100_000;
    const counts = new Map<string, number>();
    for (let i = 0; i < CHURN; i++) {
      const { type } = account.next();
      counts.set(type, (counts.get(type) ?? 0) + 1);
    }
    const share = (...types: string[]) => types.reduce((sum, t) => sum + (counts.get(t) ?? 0), 0) / CHURN;
    const membership = share('queue.member_assigned', 'queue.member_unassigned');
    expect(membership).toBeGreaterThan(0.5);
    expect(membership).toBeLessThan(0.7);
    for (const [type, n] of counts) if (!type.startsWith('queue.member')) expect(n / CHURN, type).toBeLessThan(membership);
    // Every kind of change happens.
    expect([...counts.keys()].sort()).toEqual([
      'inbox.deleted',
      'inbox.queue_granted',
      'inbox.queue_revoked',
      'inbox.upserted',
      'inbox.user_granted',
      'inbox.user_revoked',
      'queue.deleted',
      'queue.member_assigned',
      'queue.member_unassigned',
      'queue.upserted',
      'role.deleted',
      'role.upserted',
      'role.user_assigned',
      'role.user_unassigned',
      'user.deleted',
      'user.upserted',
    ]);
  });
});
