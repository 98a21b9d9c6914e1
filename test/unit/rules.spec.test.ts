import { describe, expect, it } from 'vitest';
import { filterEntries, reportRow } from '../../projections/index.ts';
import { createEventBuilder } from '../support/builders.ts';
import { given } from '../support/spec.ts';

const REC = 'VoiceRecordingAccess:Read';

describe('rule 1a: a direct inbox grant', () => {
  it('gives Inbox on the inbox, on the voice channel, with no queue', () => {
    const e = createEventBuilder();
    const { after, affected } = given(e.inbox('i1'), e.user('u1')).when(e.grantUser('i1', 'u1'));
    expect(after.entries('u1')).toEqual(['inbox:i1 <- inbox_user_grant']);
    const entry = after.docs.get('u1')!.entries[0]!;
    expect(entry.channels).toEqual(['voice']);
    expect(entry.queues).toEqual([]);
    expect(affected).toEqual(new Set(['u1']));
  });

  it('is gone when revoked, and when the inbox is deleted', () => {
    const e = createEventBuilder();
    const history = [e.inbox('i1'), e.inbox('i2'), e.user('u1'), e.grantUser('i1', 'u1'), e.grantUser('i2', 'u1')];
    const { after } = given(...history).when(e.revokeUser('i1', 'u1'), e.inboxDeleted('i2'));
    expect(after.entries('u1')).toEqual([]);
  });

  it('waits for an inbox that is not known yet', () => {
    const e = createEventBuilder();
    const { before, after } = given(e.user('u1'), e.grantUser('i9', 'u1')).when(e.inbox('i9'));
    expect(before.entries('u1')).toEqual([]);
    expect(after.entries('u1')).toEqual(['inbox:i9 <- inbox_user_grant']);
  });
});

describe('rule 1b: an inbox granted to a queue', () => {
  it('reaches the agents and the supervisors of the queue, on the queue channel', () => {
    const e = createEventBuilder();
    const { after, affected } = given(
      e.inbox('i1'),
      e.queue('q1', { channel: 'email' }),
      e.user('u1'),
      e.user('u2'),
      e.user('u3'),
      e.member('q1', 'u1', 'agent'),
      e.member('q1', 'u2', 'supervisor'),
    ).when(e.grantQueue('i1', 'q1'));
    expect(after.entries('u1')).toEqual(['inbox:i1 <- inbox_queue_grant@q1/agent']);
    expect(after.entries('u2')).toEqual(['inbox:i1 <- inbox_queue_grant@q1/supervisor']);
    expect(after.entries('u3')).toEqual([]);
    expect(after.docs.get('u1')!.entries[0]!.channels).toEqual(['email']);
    expect(affected).toEqual(new Set(['u1', 'u2']));
  });

  it('ends with the revocation, and for a member who leaves', () => {
    const e = createEventBuilder();
    const history = [e.inbox('i1'), e.queue('q1'), e.user('u1'), e.user('u2'), e.member('q1', 'u1'), e.member('q1', 'u2'), e.grantQueue('i1', 'q1')];
    const left = given(...history).when(e.unmember('q1', 'u2'));
    expect(left.after.entries('u1')).toEqual(['inbox:i1 <- inbox_queue_grant@q1/agent']);
    expect(left.after.entries('u2')).toEqual([]);
    const revoked = given(...history).when(e.revokeQueue('i1', 'q1'));
    expect(revoked.after.entries('u1')).toEqual([]);
    expect(revoked.affected).toEqual(new Set(['u1', 'u2']));
  });

  it('keeps a path per member type when a user is both agent and supervisor', () => {
    const e = createEventBuilder();
    const { after } = given(e.inbox('i1'), e.queue('q1'), e.user('u1'), e.grantQueue('i1', 'q1'), e.member('q1', 'u1', 'agent')).when(e.member('q1', 'u1', 'supervisor'));
    expect(after.entries('u1')).toEqual(['inbox:i1 <- inbox_queue_grant@q1/agent, inbox_queue_grant@q1/supervisor']);
    const { after: afterLeaving } = given(
      e.inbox('i1'),
      e.queue('q1'),
      e.user('u1'),
      e.grantQueue('i1', 'q1'),
      e.member('q1', 'u1', 'agent'),
      e.member('q1', 'u1', 'supervisor'),
    ).when(e.unmember('q1', 'u1', 'agent'));
    expect(afterLeaving.entries('u1')).toEqual(['inbox:i1 <- inbox_queue_grant@q1/supervisor']);
  });
});

describe('rule 2 and 1c: automatic call recording and the queue inbox', () => {
  const setup = (e: ReturnType<typeof createEventBuilder>, privileges: string[], channel: 'voice' | 'video' | 'messaging' | 'email' = 'voice') => [
    e.inbox('i1'),
    e.queue('q1', { channel, inbox: 'i1', automatic: true }),
    e.role('r1', privileges),
    e.user('u1'),
    e.assignRole('r1', 'u1'),
  ];

  it.each(['VoiceRecordingAccess:Read', 'RecordingPlay:Edit', 'VoiceRecordingDownload:Edit', 'VoiceRecordingDelete:Edit'])(
    'is granted by the privilege %s, to agents and supervisors alike',
    (privilege) => {
      const e = createEventBuilder();
      const { after } = given(...setup(e, [privilege])).when(e.member('q1', 'u1', 'supervisor'));
      expect(after.entries('u1')).toEqual(['automatic_call_recording:q1 <- automatic_recording@q1/supervisor', 'inbox:i1 <- automatic_recording_inbox@q1/supervisor']);
      expect(after.docs.get('u1')!.entries[0]!.granted_by[0]!.role_id).toBe('r1');
    },
  );

  it('needs a recording privilege', () => {
    const e = createEventBuilder();
    const { after } = given(...setup(e, ['InboxTab', 'OwnCallRecordingView'])).when(e.member('q1', 'u1'));
    expect(after.entries('u1')).toEqual([]);
  });

  it('needs a role at all', () => {
    const e = createEventBuilder();
    const { after } = given(e.inbox('i1'), e.queue('q1', { inbox: 'i1', automatic: true }), e.user('u1')).when(e.member('q1', 'u1'));
    expect(after.entries('u1')).toEqual([]);
  });

  it.each(['messaging', 'email'] as const)('does not exist on a %s queue', (channel) => {
    const e = createEventBuilder();
    const { after } = given(...setup(e, [REC], channel)).when(e.member('q1', 'u1'));
    expect(after.entries('u1')).toEqual([]);
  });

  it('exists on a video queue, with the video channel', () => {
    const e = createEventBuilder();
    const { after } = given(...setup(e, [REC], 'video')).when(e.member('q1', 'u1'));
    expect(after.docs.get('u1')!.entries.map((x) => x.channels)).toEqual([['video'], ['video']]);
  });

  it('is revoked with the privilege, with its inbox entry, unless another path still grants the inbox', () => {
    const e = createEventBuilder();
    const history = [...setup(e, [REC]), e.user('u2'), e.assignRole('r1', 'u2'), e.member('q1', 'u1'), e.member('q1', 'u2'), e.grantUser('i1', 'u2')];
    const { before, after, affected } = given(...history).when(e.role('r1', ['InboxTab']));
    expect(before.entries('u2')).toEqual(['automatic_call_recording:q1 <- automatic_recording@q1/agent', 'inbox:i1 <- automatic_recording_inbox@q1/agent, inbox_user_grant']);
    expect(after.entries('u1')).toEqual([]);
    expect(after.entries('u2')).toEqual(['inbox:i1 <- inbox_user_grant']);
    expect(affected).toEqual(new Set(['u1', 'u2']));
  });

  it('follows a change of the queue overflow inbox', () => {
    const e = createEventBuilder();
    const history = [...setup(e, [REC]), e.inbox('i2'), e.member('q1', 'u1')];
    const { after, affected } = given(...history).when(e.queue('q1', { inbox: 'i2', automatic: true }));
    expect(after.entries('u1')).toEqual(['automatic_call_recording:q1 <- automatic_recording@q1/agent', 'inbox:i2 <- automatic_recording_inbox@q1/agent']);
    expect(affected).toEqual(new Set(['u1']));
    const cleared = given(...history).when(e.queue('q1', { inbox: null, automatic: true }));
    expect(cleared.after.entries('u1')).toEqual(['automatic_call_recording:q1 <- automatic_recording@q1/agent']);
  });

  it('adds the overflow inbox once that inbox exists', () => {
    const e = createEventBuilder();
    const history = [e.queue('q1', { inbox: 'i7', automatic: true }), e.role('r1', [REC]), e.user('u1'), e.assignRole('r1', 'u1'), e.member('q1', 'u1')];
    const { before, after, affected } = given(...history).when(e.inbox('i7'));
    expect(before.entries('u1')).toEqual(['automatic_call_recording:q1 <- automatic_recording@q1/agent']);
    expect(after.entries('u1')).toContain('inbox:i7 <- automatic_recording_inbox@q1/agent');
    expect(affected).toEqual(new Set(['u1']));
  });

  it('ends when the user moves to a role without recording privileges', () => {
    const e = createEventBuilder();
    const history = [...setup(e, [REC]), e.role('r2', []), e.member('q1', 'u1')];
    const { after } = given(...history).when(e.assignRole('r2', 'u1'));
    expect(after.entries('u1')).toEqual([]);
  });
});

describe('rule 3: ad hoc call recording', () => {
  it('goes to agents only, and shows the queue only', () => {
    const e = createEventBuilder();
    const { after } = given(e.inbox('i1'), e.queue('q1', { inbox: 'i1', ad_hoc: true }), e.user('u1'), e.user('u2'), e.member('q1', 'u1', 'agent')).when(
      e.member('q1', 'u2', 'supervisor'),
    );
    expect(after.entries('u1')).toEqual(['ad_hoc_call_recording:q1 <- ad_hoc_recording@q1/agent']);
    expect(after.entries('u2')).toEqual([]);
  });

  it('needs no privilege, and no recording on messaging or email queues', () => {
    const e = createEventBuilder();
    const { after } = given(e.queue('qm', { channel: 'messaging', ad_hoc: true }), e.queue('qv', { channel: 'video', ad_hoc: true }), e.user('u1')).when(
      e.member('qm', 'u1'),
      e.member('qv', 'u1'),
    );
    expect(after.entries('u1')).toEqual(['ad_hoc_call_recording:qv <- ad_hoc_recording@qv/agent']);
  });
});

describe('roles', () => {
  it('one role per user: an assignment replaces the earlier role; unassigning another role does nothing', () => {
    const e = createEventBuilder();
    const history = [e.queue('q1', { automatic: true }), e.role('rec', [REC]), e.role('none', []), e.user('u1'), e.member('q1', 'u1'), e.assignRole('none', 'u1')];
    const { after } = given(...history).when(e.assignRole('rec', 'u1'), e.unassignRole('none', 'u1'));
    expect(after.entries('u1')).toEqual(['automatic_call_recording:q1 <- automatic_recording@q1/agent']);
    const { after: unassigned } = given(...history, e.assignRole('rec', 'u1')).when(e.unassignRole('rec', 'u1'));
    expect(unassigned.entries('u1')).toEqual([]);
  });

  it('a role change reaches only that role’s users; a deleted role ends its assignments for good', () => {
    const e = createEventBuilder();
    const history = [
      e.queue('q1', { automatic: true }),
      e.role('a', []),
      e.role('b', []),
      e.user('u1'),
      e.user('u2'),
      e.member('q1', 'u1'),
      e.member('q1', 'u2'),
      e.assignRole('a', 'u1'),
      e.assignRole('b', 'u2'),
    ];
    const changed = given(...history).when(e.role('a', [REC]));
    expect(changed.affected).toEqual(new Set(['u1']));
    expect(changed.after.entries('u1')).toHaveLength(1);
    const deleted = given(...history, e.role('a', [REC])).when(e.roleDeleted('a'), e.role('a', [REC]), e.assignRole('a', 'u1'));
    expect(deleted.after.entries('u1')).toEqual([]);
  });
});

describe('queues', () => {
  it('a rename reaches every member and shows in their entries', () => {
    const e = createEventBuilder();
    const history = [e.queue('q1', { ad_hoc: true }), e.user('u1'), e.user('u2'), e.member('q1', 'u1'), e.member('q1', 'u2', 'supervisor')];
    const { after, affected } = given(...history).when(e.queue('q1', { ad_hoc: true, name: 'Billing' }));
    expect(affected).toEqual(new Set(['u1', 'u2']));
    expect(after.docs.get('u1')!.entries[0]!.target.name).toBe('Billing');
  });

  it('a deleted queue grants nothing, even to grants that keep arriving on the inbox topic', () => {
    const e = createEventBuilder();
    const history = [e.inbox('i1'), e.queue('q1', { inbox: 'i1', automatic: true, ad_hoc: true }), e.role('r', [REC]), e.user('u1'), e.assignRole('r', 'u1'), e.member('q1', 'u1')];
    const { before, after, affected } = given(...history).when(e.queueDeleted('q1'), e.grantQueue('i1', 'q1'), e.member('q1', 'u1'), e.queue('q1', { ad_hoc: true }));
    expect(before.entries('u1')).toHaveLength(3);
    expect(after.entries('u1')).toEqual([]);
    expect(affected.has('u1')).toBe(true);
  });
});

describe('inboxes', () => {
  it('a rename or a deletion reaches every user near the inbox, by each path', () => {
    const e = createEventBuilder();
    const history = [
      e.inbox('i1'),
      e.queue('qa', { inbox: 'i1', automatic: true }),
      e.queue('qg'),
      e.role('r', [REC]),
      e.user('direct'),
      e.user('viaGrant'),
      e.user('viaRecording'),
      e.user('bystander'),
      e.assignRole('r', 'viaRecording'),
      e.grantUser('i1', 'direct'),
      e.grantQueue('i1', 'qg'),
      e.member('qg', 'viaGrant'),
      e.member('qa', 'viaRecording'),
    ];
    const renamed = given(...history).when(e.inbox('i1', 'Escalations'));
    expect(renamed.affected).toEqual(new Set(['direct', 'viaGrant', 'viaRecording']));
    expect(renamed.after.docs.get('viaGrant')!.entries[0]!.target.name).toBe('Escalations');
    const deleted = given(...history).when(e.inboxDeleted('i1'), e.grantUser('i1', 'bystander'));
    // the late grant to the deleted inbox is dropped: it touches nobody
    expect(deleted.affected).toEqual(new Set(['direct', 'viaGrant', 'viaRecording']));
    expect(deleted.after.entries('direct')).toEqual([]);
    expect(deleted.after.entries('viaGrant')).toEqual([]);
    expect(deleted.after.entries('viaRecording')).toEqual(['automatic_call_recording:qa <- automatic_recording@qa/agent']);
    expect(deleted.after.entries('bystander')).toEqual([]);
  });
});

describe('users', () => {
  it('a deleted user is gone with all relations, and relations arriving later do not bring it back', () => {
    const e = createEventBuilder();
    const history = [e.inbox('i1'), e.queue('q1', { ad_hoc: true }), e.role('r', [REC]), e.user('u1'), e.assignRole('r', 'u1'), e.member('q1', 'u1'), e.grantUser('i1', 'u1')];
    const { after } = given(...history).when(e.userDeleted('u1'), e.grantUser('i1', 'u1'), e.member('q1', 'u1'), e.user('u1'));
    expect(after.docs.has('u1')).toBe(false);
  });

  it('relations that arrive before the user apply once the user exists', () => {
    const e = createEventBuilder();
    const { before, after } = given(e.queue('q1', { ad_hoc: true }), e.member('q1', 'u1')).when(e.user('u1'));
    expect(before.docs.has('u1')).toBe(false);
    expect(after.entries('u1')).toEqual(['ad_hoc_call_recording:q1 <- ad_hoc_recording@q1/agent']);
  });

  it('an inactive user keeps its entries and is reported with its status; a user with no entries has no row', () => {
    const e = createEventBuilder();
    const { after } = given(e.inbox('i1'), e.user('u1'), e.user('u2'), e.grantUser('i1', 'u1')).when(e.user('u1', 'Ana', 'inactive'));
    expect(reportRow(after.docs.get('u1')!, {})).toMatchObject({ user_access: 'inactive', can_access: 1, access_types: ['inbox'] });
    expect(after.docs.has('u2')).toBe(true);
    expect(reportRow(after.docs.get('u2')!, {})).toBeNull();
  });
});

describe('Can Access, filters and the summary', () => {
  const history = () => {
    const e = createEventBuilder();
    return [
      e.inbox('i1'),
      e.inbox('i2'),
      e.queue('qv', { channel: 'voice', inbox: 'i1', automatic: true, ad_hoc: true }),
      e.queue('qd', { channel: 'video', inbox: 'i2', automatic: true }),
      e.queue('qm', { channel: 'messaging' }),
      e.role('r', ['RecordingPlay:Edit']),
      e.user('u1'),
      e.user('u2'),
      e.assignRole('r', 'u1'),
      e.member('qv', 'u1'),
      e.member('qd', 'u1', 'supervisor'),
      e.member('qm', 'u2'),
      e.grantUser('i1', 'u1'),
      e.grantQueue('i2', 'qm'),
    ];
  };

  it('counts each target once over overlapping paths', () => {
    const { before } = given(...history());
    const row = reportRow(before.docs.get('u1')!, {})!;
    // inboxes i1, i2; queues qv (automatic + ad hoc), qd
    expect(row.can_access).toBe(4);
    expect(row.access_types).toEqual(['ad_hoc_call_recording', 'automatic_call_recording', 'inbox']);
  });

  it('a channel filter keeps only the paths of that channel, and the summary follows', () => {
    const { before } = given(...history());
    const u1 = before.docs.get('u1')!;
    expect(filterEntries(u1.entries, { channel: 'video' }).map((x) => `${x.access_type}:${x.target.id}`)).toEqual(['automatic_call_recording:qd', 'inbox:i2']);
    expect(before.summary('video')).toEqual({
      users: { total: 1, inbox: 1, automatic_call_recording: 1, ad_hoc_call_recording: 0 },
      queues: { inbox: 1, automatic_call_recording: 1, ad_hoc_call_recording: 0 },
      inboxes: 1,
    });
    expect(before.summary('messaging')).toEqual({
      users: { total: 1, inbox: 1, automatic_call_recording: 0, ad_hoc_call_recording: 0 },
      queues: { inbox: 1, automatic_call_recording: 0, ad_hoc_call_recording: 0 },
      inboxes: 1,
    });
    // voice: u1 has i1 (direct + via qv) and qv twice; the direct grant carries no queue
    expect(before.summary('voice')).toEqual({
      users: { total: 1, inbox: 1, automatic_call_recording: 1, ad_hoc_call_recording: 1 },
      queues: { inbox: 1, automatic_call_recording: 1, ad_hoc_call_recording: 1 },
      inboxes: 1,
    });
    expect(before.summary()).toEqual({
      users: { total: 2, inbox: 2, automatic_call_recording: 1, ad_hoc_call_recording: 1 },
      queues: { inbox: 3, automatic_call_recording: 2, ad_hoc_call_recording: 1 },
      inboxes: 2,
    });
  });

  it('an access-type filter keeps only entries of that type', () => {
    const { before } = given(...history());
    expect(reportRow(before.docs.get('u1')!, { access_type: 'inbox' })).toMatchObject({ can_access: 2, access_types: ['inbox'] });
    expect(reportRow(before.docs.get('u2')!, { access_type: 'automatic_call_recording' })).toBeNull();
    expect(reportRow(before.docs.get('u1')!, { access_type: 'inbox', channel: 'voice' })).toMatchObject({ can_access: 1 });
  });
});

describe('event ids', () => {
  it('an event whose id was already applied is skipped, so a late redelivery never undoes a newer change', () => {
    const e = createEventBuilder();
    const assign = e.member('q1', 'u1');
    const { after } = given(e.queue('q1', { ad_hoc: true }), e.user('u1'), assign, e.unmember('q1', 'u1')).when(assign);
    expect(after.entries('u1')).toEqual([]);
  });

  it('ids are remembered for a window of log time: a copy produced again within it is skipped, a later one is applied', () => {
    const e = createEventBuilder();
    const assign = { ...e.member('q1', 'u1'), logMs: Date.parse('2026-03-01T10:00:00Z') };
    const unassign = { ...e.unmember('q1', 'u1'), logMs: Date.parse('2026-03-01T10:05:00Z') };
    const history = [e.queue('q1', { ad_hoc: true }), e.user('u1'), assign, unassign];
    const day = 24 * 3600 * 1000;
    const sixDaysLater = given(...history).when({ ...assign, logMs: assign.logMs + 6 * day });
    expect(sixDaysLater.after.entries('u1')).toEqual([]);
    const eightDaysLater = given(...history).when({ ...assign, logMs: assign.logMs + 8 * day });
    expect(eightDaysLater.after.entries('u1')).toEqual(['ad_hoc_call_recording:q1 <- ad_hoc_recording@q1/agent']);
  });
});
