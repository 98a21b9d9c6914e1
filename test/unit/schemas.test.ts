import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent, type DecodeResult } from '../../schemas/decode.ts';
import { EVENT_TYPES, LOGICAL_TOPICS, TOPIC_OF_TYPE, type EventType, type LogicalTopic } from '../../schemas/events.ts';
import conformance from '../fixtures/conformance-cases.json' with { type: 'json' };

const ACCOUNT = 'acc_3F9k';

/** A valid data example per event type, as the contact-center API sends it. */
const EXAMPLES: Record<EventType, Record<string, unknown>> = {
  'user.upserted': { user_id: 'u_7', display_name: 'Ada Lovelace', user_email: 'ada@example.com', user_access: 'active' },
  'user.deleted': { user_id: 'u_7' },
  'role.upserted': { role_id: 'r_1', role_name: 'Supervisors', privileges: ['VoiceRecordingAccess:Read', 'Other:Edit'] },
  'role.deleted': { role_id: 'r_1' },
  'role.user_assigned': { role_id: 'r_1', user_id: 'u_7' },
  'role.user_unassigned': { role_id: 'r_1', user_id: 'u_7' },
  'queue.upserted': {
    cc_queue_id: 'q_12',
    queue_name: 'Billing',
    channel: 'voice',
    overflow_to_inbox_id: 'i_3',
    recording: { automatic: true, ad_hoc: false },
  },
  'queue.deleted': { cc_queue_id: 'q_12' },
  'queue.member_assigned': { cc_queue_id: 'q_12', user_id: 'u_7', member_type: 'agent' },
  'queue.member_unassigned': { cc_queue_id: 'q_12', user_id: 'u_7', member_type: 'supervisor' },
  'inbox.upserted': { inbox_id: 'i_3', inbox_name: 'Billing voicemail' },
  'inbox.deleted': { inbox_id: 'i_3' },
  'inbox.user_granted': { inbox_id: 'i_3', user_id: 'u_7' },
  'inbox.user_revoked': { inbox_id: 'i_3', user_id: 'u_7' },
  'inbox.queue_granted': { inbox_id: 'i_3', cc_queue_id: 'q_12' },
  'inbox.queue_revoked': { inbox_id: 'i_3', cc_queue_id: 'q_12' },
};

function envelope(type: string, data: unknown = EXAMPLES[type as EventType], extra: Record<string, unknown> = {}) {
  return {
    specversion: '1.0',
    id: '0b9f3c2e-8d51-4c1e-9a55-3f1f0e0c2a17',
    source: 'contact-center',
    type,
    time: '2026-11-27T10:15:00.000Z',
    accountid: ACCOUNT,
    datacontenttype: 'application/json',
    data,
    ...extra,
  };
}

function decode(value: unknown, options: { key?: string | null; topic?: LogicalTopic } = {}): DecodeResult {
  const key = options.key === undefined ? ACCOUNT : options.key;
  return decodeEvent({ key, value: Buffer.from(JSON.stringify(value)), ...(options.topic ? { topic: options.topic } : {}) });
}

function rejection(result: DecodeResult): { code: string; reason: string } {
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.event)}`);
  return { code: result.code, reason: result.reason };
}

describe('decodeEvent: valid events', () => {
  it.each(EVENT_TYPES)('decodes a valid %s into the typed event', (type) => {
    const result = decode(envelope(type), { topic: TOPIC_OF_TYPE[type] });
    expect(result).toEqual({
      ok: true,
      event: { ...envelope(type), timeMs: Date.parse('2026-11-27T10:15:00.000Z') },
    });
  });

  it('covers every event type of the contract', () => {
    expect(EVENT_TYPES).toHaveLength(16);
    expect(new Set(Object.values(TOPIC_OF_TYPE))).toEqual(new Set(['users', 'roles', 'queues', 'inboxes']));
  });

  it('accepts a string value, an offset time, no datacontenttype and a null queue inbox', () => {
    const data = { ...EXAMPLES['queue.upserted'], overflow_to_inbox_id: null };
    const { datacontenttype: _omitted, ...value } = envelope('queue.upserted', data, { time: '2026-11-27T11:15:00+01:00' });
    const result = decodeEvent({ key: ACCOUNT, value: JSON.stringify(value) });
    expect(result.ok && result.event.timeMs).toBe(Date.parse('2026-11-27T10:15:00.000Z'));
    expect(result.ok && result.event.type === 'queue.upserted' && result.event.data.overflow_to_inbox_id).toBeNull();
    expect(result.ok && result.event.time).toBe('2026-11-27T11:15:00+01:00');
  });

  it('strips unknown fields in data and in the envelope', () => {
    const result = decode(envelope('user.deleted', { user_id: 'u_7', tenant_hint: 'x' }, { traceparent: '00-abc' }));
    expect(result.ok && result.event.data).toEqual({ user_id: 'u_7' });
    expect(result.ok && 'traceparent' in result.event).toBe(false);
  });

  it('decodes every event of the conformance fixtures on its own topic', () => {
    // Typed loosely on purpose: the fixture is data from outside, which is what decodeEvent takes.
    const cases = conformance.cases as { events: { topic: string; key: string; value: unknown }[] }[];
    const events = cases.flatMap((c) => c.events);
    expect(events.length).toBeGreaterThan(0);
    for (const { topic, key, value } of events) {
      const result = decode(value, { key, topic: topic.replace(/^zcc\./, '') as LogicalTopic });
      expect(result.ok ? 'ok' : result.reason).toBe('ok');
    }
  });
});

describe('decodeEvent: poison', () => {
  it('names a missing data field', () => {
    const { user_email: _missing, ...data } = EXAMPLES['user.upserted'];
    expect(rejection(decode(envelope('user.upserted', data)))).toEqual({
      code: 'bad_data',
      reason: 'data.user_email: missing (expected string)',
    });
  });

  it('names a field of the wrong type, nested fields and bad enum values, all at once', () => {
    const data = { ...EXAMPLES['queue.upserted'], channel: 'fax', recording: { automatic: 'yes', ad_hoc: false } };
    expect(rejection(decode(envelope('queue.upserted', data)))).toEqual({
      code: 'bad_data',
      reason: 'data.channel: expected one of "voice", "video", "messaging", "email" (got "fax"); ' + 'data.recording.automatic: expected boolean, received string',
    });
    const user = { ...EXAMPLES['user.upserted'], user_id: 7 };
    expect(rejection(decode(envelope('user.upserted', user))).reason).toBe('data.user_id: expected string, received number');
    const role = { ...EXAMPLES['role.upserted'], privileges: ['a', 3] };
    expect(rejection(decode(envelope('role.upserted', role))).reason).toBe('data.privileges[1]: expected string, received number');
  });

  it('says null is allowed when the queue inbox has the wrong type', () => {
    const data = { ...EXAMPLES['queue.upserted'], overflow_to_inbox_id: 5 };
    expect(rejection(decode(envelope('queue.upserted', data))).reason).toBe('data.overflow_to_inbox_id: expected string or null, received number');
  });

  it('refuses an unknown type', () => {
    expect(rejection(decode(envelope('queue.renamed', { cc_queue_id: 'q_12' })))).toEqual({
      code: 'unknown_type',
      reason: 'unknown event type "queue.renamed"',
    });
  });

  it('refuses an accountid that differs from the key, or a missing key', () => {
    expect(rejection(decode(envelope('user.deleted'), { key: 'acc_other' }))).toEqual({
      code: 'account_mismatch',
      reason: 'accountid "acc_3F9k" differs from message key "acc_other"',
    });
    expect(rejection(decode(envelope('user.deleted'), { key: null }))).toEqual({
      code: 'account_mismatch',
      reason: 'accountid "acc_3F9k" differs from message key (none)',
    });
  });

  it('refuses a value that is not JSON, not UTF-8, or missing', () => {
    const notJson = rejection(decodeEvent({ key: ACCOUNT, value: '{"specversion": "1.0",' }));
    expect(notJson.code).toBe('not_json');
    expect(notJson.reason).toMatch(/^message value is not JSON: /);
    expect(rejection(decodeEvent({ key: ACCOUNT, value: Buffer.from([0xff, 0xfe]) })).code).toBe('not_json');
    expect(rejection(decodeEvent({ key: ACCOUNT, value: null })).code).toBe('not_json');
  });

  it('refuses a bad envelope: old specversion, missing id, JSON that is not an object', () => {
    const { id: _missing, ...noId } = envelope('user.deleted', undefined, { specversion: '0.3' });
    expect(rejection(decode(noId))).toEqual({
      code: 'bad_envelope',
      reason: 'specversion: expected "1.0" (got "0.3"); id: missing (expected string)',
    });
    expect(rejection(decode([1, 2]))).toEqual({ code: 'bad_envelope', reason: 'event: expected object, received array' });
    expect(rejection(decode(envelope('user.deleted', ['u_7']))).reason).toBe('data: expected object, received array');
    expect(rejection(decode(envelope('user.deleted', undefined, { datacontenttype: 'text/xml' }))).reason).toBe('datacontenttype: expected "application/json" (got "text/xml")');
  });

  it.each(['2026-11-27T10:15:00', '2026-11-27 10:15:00Z', '2026-02-30T10:15:00Z', '2026-11-27T10:15Z', 'yesterday'])('refuses the time %j', (time) => {
    const { code, reason } = rejection(decode(envelope('user.deleted', undefined, { time })));
    expect(code).toBe('bad_envelope');
    expect(reason).toMatch(/^time: must be an RFC 3339 date-time with seconds and an offset/);
  });

  it('refuses ids with control characters, empty or too long, naming the field', () => {
    expect(rejection(decode(envelope('user.deleted', undefined, { id: 'e\u001f1' })))).toEqual({
      code: 'bad_envelope',
      reason: 'id: must not contain control characters (U+0000-U+001F, U+007F): found U+001F at index 1',
    });
    expect(rejection(decode(envelope('user.deleted', { user_id: 'u\n7' }))).reason).toMatch(/^data\.user_id: must not contain control characters .* U\+000A/);
    expect(rejection(decode(envelope('user.deleted', { user_id: '' }))).reason).toBe('data.user_id: must not be empty');
    expect(rejection(decode(envelope('user.deleted', { user_id: 'u'.repeat(257) }))).reason).toBe('data.user_id: must have at most 256 characters (got 257)');
  });

  it('refuses an event on another topic than its own', () => {
    expect(rejection(decode(envelope('user.upserted'), { topic: 'roles' }))).toEqual({
      code: 'wrong_topic',
      reason: 'event type "user.upserted" belongs to topic "users", not "roles"',
    });
  });

  it('never throws, whatever the input', () => {
    const odd = ['', 'null', '"x"', '[]', '{}', '{"__proto__": {"specversion": "1.0"}}', '['.repeat(100_000)];
    for (const value of odd) expect(() => decodeEvent({ key: null, value })).not.toThrow();
    expect(decodeEvent({ key: ACCOUNT, value: '{"__proto__": {}}' }).ok).toBe(false);
  });
});

describe('decodeEvent: one parse for a valid event', () => {
  /** A valid event of some type, then up to three changes: a field of the envelope or its data dropped or replaced by any JSON. */
  const message = fc
    .record({
      type: fc.constantFrom(...EVENT_TYPES),
      changes: fc.array(
        fc.record({
          inData: fc.boolean(),
          field: fc.constantFrom('specversion', 'id', 'type', 'time', 'accountid', 'user_id', 'role_id', 'cc_queue_id', 'inbox_id', 'channel', 'privileges', 'recording', 'extra'),
          value: fc.option(fc.jsonValue(), { nil: undefined }),
        }),
        { maxLength: 3 },
      ),
      otherType: fc.constantFrom(...EVENT_TYPES),
      key: fc.constantFrom<string | null>(ACCOUNT, 'acc_other', null),
      topic: fc.option(fc.constantFrom(...LOGICAL_TOPICS), { nil: undefined }),
    })
    .map(({ type, changes, otherType, key, topic }) => {
      const value = envelope(type) as Record<string, unknown>;
      const data = { ...(value.data as Record<string, unknown>) };
      value.data = data;
      for (const { inData, field, value: v } of changes) {
        const target = inData ? data : value;
        if (v === undefined) delete target[field];
        else target[field] = field === 'type' && typeof v === 'boolean' ? otherType : v;
      }
      return { key, value: JSON.stringify(value), ...(topic ? { topic } : {}) };
    });

  it('decides every message as the stages one by one do: the same event, or the same first reason', () => {
    fc.assert(
      fc.property(message, (input) => {
        expect(decodeEvent(input)).toEqual(decodeEvent(input, { oneParse: false }));
      }),
      { numRuns: 2_000 },
    );
  });
});
