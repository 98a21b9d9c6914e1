/**
 * GET /users/{user_id}/history through the real pipeline: a scripted story of one user, each event
 * searchable before the next is sent, and the exact list of changes with their causing events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FactEvent } from '../../projections/index.ts';
import { createEventBuilder } from '../support/builders.ts';
import { type ApiEnv, startApiEnv } from './api-harness.ts';

const ACCOUNT = 'acc-audit';
const BASE = `/v1/accounts/${ACCOUNT}/access`;
const b = createEventBuilder(Date.parse('2026-06-01T09:00:00Z'), 'h');

// The story of Ana (u1), with Bo (u2) beside her.
const story: FactEvent[] = [
  b.inbox('i1', 'Sales voicemail'), // h-1
  b.inbox('i2', 'Escalations'), // h-2
  b.queue('q1', { name: 'Sales', channel: 'voice', inbox: 'i1', automatic: true }), // h-3
  b.role('r1', ['InboxTab'], 'Agent'), // h-4
  b.user('u1', 'Ana Cruz'), // h-5: created
  b.assignRole('r1', 'u1'), // h-6: nothing changes
  b.member('q1', 'u1', 'agent'), // h-7: nothing yet: the role has no recording privilege
  b.grantQueue('i2', 'q1'), // h-8: Escalations granted through the queue
  b.role('r1', ['InboxTab', 'RecordingPlay:Edit'], 'Agent'), // h-9: automatic recording, and with it the queue's inbox
  b.grantQueue('i1', 'q1'), // h-10: the queue's inbox gains a path
  b.user('u2', 'Bo Li'), // h-11: someone else
  b.role('r1', ['InboxTab'], 'Agent'), // h-12: privilege removed: recording revoked, the inbox keeps its queue grant
  b.grantUser('i1', 'u1'), // h-13: a direct grant on top
  b.user('u1', 'Ana Cruz-Lopez'), // h-14: profile updated
  b.queueDeleted('q1'), // h-15: Escalations revoked; Sales voicemail keeps the direct grant
  b.userDeleted('u1'), // h-16: everything revoked, profile deleted
];

const ACR = 'automatic_call_recording';
const expected: [eventId: string, type: string, kind: string, change: string, target: string | null][] = [
  ['h-5', 'user.upserted', 'profile', 'created', null],
  ['h-8', 'inbox.queue_granted', 'entry', 'granted', 'inbox:i2'],
  ['h-9', 'role.upserted', 'entry', 'granted', `${ACR}:q1`],
  ['h-9', 'role.upserted', 'entry', 'granted', 'inbox:i1'],
  ['h-10', 'inbox.queue_granted', 'entry', 'changed', 'inbox:i1'],
  ['h-12', 'role.upserted', 'entry', 'revoked', `${ACR}:q1`],
  ['h-12', 'role.upserted', 'entry', 'changed', 'inbox:i1'],
  ['h-13', 'inbox.user_granted', 'entry', 'changed', 'inbox:i1'],
  ['h-14', 'user.upserted', 'profile', 'updated', null],
  ['h-15', 'queue.deleted', 'entry', 'changed', 'inbox:i1'],
  ['h-15', 'queue.deleted', 'entry', 'revoked', 'inbox:i2'],
  ['h-16', 'user.deleted', 'entry', 'revoked', 'inbox:i1'],
  ['h-16', 'user.deleted', 'profile', 'deleted', null],
];

const timeOf = (id: string) => new Date(story.find((e) => e.id === id)!.timeMs).toISOString();
const brief = (items: any[]) =>
  items.map((i) => [i.event.id.replace(`${ACCOUNT}-`, ''), i.event.type, i.kind, i.change, i.kind === 'entry' ? `${i.access_type}:${i.target.id}` : null]);
const rules = (entry: any) => entry.granted_by.map((p: any) => p.rule);

describe('access history of a user', () => {
  let api: ApiEnv;
  let token: string;
  let items: any[];

  const get = async (path: string, status = 200) => {
    const res = await api.get(path, token);
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(status);
    return (await res.json()) as any;
  };

  beforeAll(async () => {
    api = await startApiEnv();
    token = await api.token(ACCOUNT);
    // One event at a time, each searchable before the next: the order of application is the story's.
    for (const event of story) await api.load(ACCOUNT, [event]);
    items = (await get(`${BASE}/users/u1/history`)).items;
  });

  afterAll(async () => {
    await api?.close();
  });

  it('lists each grant, change and revocation with its causing event, in order', () => {
    expect(brief(items)).toEqual(expected);
    for (const item of items) {
      const id = item.event.id.replace(`${ACCOUNT}-`, '');
      expect(item.at).toBe(timeOf(id));
      expect(item.event.time).toBe(timeOf(id));
      const topic = { user: 'users', role: 'roles', queue: 'queues', inbox: 'inboxes' }[item.event.type.split('.')[0] as string] as 'users';
      expect(item.event.topic).toBe(api.env.config.topics[topic]);
      expect(item.event.partition).toBe(0);
    }
    // Offsets follow each topic's order.
    const roles = items.filter((i) => i.event.type === 'role.upserted').map((i) => Number(i.event.offset));
    expect(roles).toEqual([...roles].sort((x, y) => x - y));
  });

  it('shows why: the paths of the entry after each change, and before it for a change and a revocation', () => {
    const [, escalations, recording, voicemail, gainsQueue, recordingRevoked, losesRecording, direct, , queueGone, escalationsRevoked, last, deleted] = items;
    expect(escalations.entry.target).toEqual({ type: 'inbox', id: 'i2', name: 'Escalations' });
    expect(escalations.entry.granted_by).toEqual([{ rule: 'inbox_queue_grant', channel: 'voice', queue_id: 'q1', role_id: null, member_type: 'agent' }]);
    expect(escalations.previous).toBeNull();
    expect(recording.entry.granted_by).toEqual([{ rule: 'automatic_recording', channel: 'voice', queue_id: 'q1', role_id: 'r1', member_type: 'agent' }]);
    expect(rules(voicemail.entry)).toEqual(['automatic_recording_inbox']);
    expect([rules(gainsQueue.previous), rules(gainsQueue.entry)]).toEqual([['automatic_recording_inbox'], ['automatic_recording_inbox', 'inbox_queue_grant']]);
    expect(rules(recordingRevoked.entry)).toEqual(['automatic_recording']); // as it was
    expect([rules(losesRecording.previous), rules(losesRecording.entry)]).toEqual([['automatic_recording_inbox', 'inbox_queue_grant'], ['inbox_queue_grant']]);
    expect(rules(direct.entry)).toEqual(['inbox_queue_grant', 'inbox_user_grant']);
    expect([rules(queueGone.previous), rules(queueGone.entry)]).toEqual([['inbox_queue_grant', 'inbox_user_grant'], ['inbox_user_grant']]);
    expect(escalationsRevoked.entry.target.id).toBe('i2');
    expect(rules(last.entry)).toEqual(['inbox_user_grant']);
    expect(deleted.profile).toEqual({ display_name: 'Ana Cruz-Lopez', user_email: 'u1@example.com', user_access: 'active' });
    expect(items[8].previous.display_name).toBe('Ana Cruz');
    expect(items[8].profile.display_name).toBe('Ana Cruz-Lopez');
  });

  it('pages with a cursor: every change once, in order, at the first page’s position', async () => {
    const first = await api.get(`${BASE}/users/u1/history?size=4`, token);
    const position = first.headers.get('x-access-index-position');
    let body = (await first.json()) as any;
    const all = [...body.items];
    let pages = 1;
    while (body.next_cursor) {
      body = await get(`${BASE}/users/u1/history?size=4&cursor=${encodeURIComponent(body.next_cursor)}`);
      expect(body.position).toBe(position);
      all.push(...body.items);
      pages += 1;
    }
    expect(pages).toBe(4);
    expect(all).toEqual(items);
    // The cursor belongs to u1's history.
    const again = (await get(`${BASE}/users/u1/history?size=4`)).next_cursor;
    const wrong = await get(`${BASE}/users/u2/history?cursor=${encodeURIComponent(again)}`, 400);
    expect(wrong.errors).toEqual([{ field: 'cursor', message: 'does not match the filters' }]);
  });

  it('another user, an unknown user, bad parameters', async () => {
    expect(brief((await get(`${BASE}/users/u2/history`)).items)).toEqual([['h-11', 'user.upserted', 'profile', 'created', null]]);
    const missing = await get(`${BASE}/users/nobody/history`, 404);
    expect(missing.type).toMatch(/not_found$/);
    const bad = await get(`${BASE}/users/u1/history?size=0&as_of=2026-01-01T00:00:00Z`, 400);
    expect(bad.errors.map((e: any) => e.field).sort()).toEqual(['as_of', 'size']);
    expect((await api.get(`${BASE}/users/u1/history`)).status).toBe(401);
    expect((await api.get(`${BASE}/users/u1/history`, await api.token('acc-other'))).status).toBe(403);
  });

  it('the drill-down as_of moments of the story agrees with the history', async () => {
    const at = (id: string) => encodeURIComponent(timeOf(id));
    const beforePath = `${BASE}/users/u1?as_of=${encodeURIComponent(new Date(story[4]!.timeMs - 1).toISOString())}`;
    const before = await get(beforePath, 404);
    expect(before.detail).toContain('u1');
    // A 404 is an answer about a state: it names the position it was read at, as a 200 does.
    expect((await api.get(beforePath, token)).headers.get('x-access-index-position')).toMatch(/^\S+:0:\d+/);
    expect((await get(`${BASE}/users/u1?as_of=${at('h-5')}`)).entries).toEqual([]);
    const recording = await get(`${BASE}/users/u1?as_of=${at('h-10')}`);
    expect(recording.access_types).toEqual([ACR, 'inbox']);
    expect(recording.entries.map((e: any) => e.target.id)).toEqual(['q1', 'i1', 'i2']);
    expect(recording.entries[1]).toEqual(items[4].entry);
    const later = await get(`${BASE}/users/u1?as_of=${at('h-15')}`);
    expect(later.display_name).toBe('Ana Cruz-Lopez');
    expect(later.entries).toEqual([items[9].entry]);
    await get(`${BASE}/users/u1?as_of=${at('h-16')}`, 404);
    await get(`${BASE}/users/u1`, 404);
  });
});
