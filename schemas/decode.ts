/**
 * Decoding a Kafka message into a typed event, or into a reason why it is poison.
 *
 * Poison never throws: the projector sends it to the dead-letter topic with the reason and goes on.
 * The stages run from the outside in (bytes, JSON, envelope, key, type, topic, data) so that the
 * reason names the first thing that is wrong, with a code an operator can count and alert on.
 */
import { EVENT_SCHEMAS, envelopeSchema, type EventType, isEventType, TOPIC_OF_TYPE, type AccessEvent, type LogicalTopic } from './events.ts';
import { formatIssues, quote, readableIssue } from './issues.ts';

/** Why a message could not be used. */
export type DecodeErrorCode = 'not_json' | 'bad_envelope' | 'unknown_type' | 'bad_data' | 'account_mismatch' | 'wrong_topic';

export type DecodeResult = { ok: true; event: AccessEvent } | { ok: false; reason: string; code: DecodeErrorCode };

export interface DecodeInput {
  /** The message key: the account id. */
  key: Buffer | string | null;
  /** The message value: a CloudEvents structured-mode JSON document. */
  value: Buffer | string | null;
  /** The logical topic the message was read from, when known. */
  topic?: LogicalTopic;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(code: DecodeErrorCode, reason: string): DecodeResult {
  return { ok: false, code, reason };
}

function describeKey(key: Buffer | string | null, keyText: string | undefined): string {
  if (key === null) return '(none)';
  return keyText === undefined ? '(not valid UTF-8)' : quote(keyText);
}

function toText(bytes: Buffer | string): string | undefined {
  if (typeof bytes === 'string') return bytes;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Decode one Kafka message into an `AccessEvent`. Never throws, whatever the input.
 *
 * - `account_mismatch`: `accountid` differs from the message key (a null key never matches), since
 *   the key is what puts all events of an account in one partition, in order.
 * - `wrong_topic`: the type belongs to another topic than `topic` (e.g. `user.upserted` on the roles
 *   topic). Order holds only within a topic, and the projector relies on each entity's events all
 *   arriving in one topic's order; an event on a foreign topic could overtake or trail its siblings,
 *   so it is poison rather than applied out of order.
 *
 * A valid event is decided by one parse of its type's full schema; `oneParse: false` runs every
 * stage for it too (the tests hold the default to it).
 */
export function decodeEvent(input: DecodeInput, options: { oneParse?: boolean } = {}): DecodeResult {
  try {
    return decodeStages(input, options.oneParse ?? true);
  } catch (error) {
    // Not expected (every stage uses safe parsing), but a decode bug must not stop the projector.
    return fail('bad_envelope', `could not decode: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The message's `type` when it is one of the contract's (nothing else is checked). */
function knownType(raw: unknown): EventType | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const type = (raw as { type?: unknown }).type;
  return typeof type === 'string' && isEventType(type) ? type : undefined;
}

function decodeStages({ key, value, topic }: DecodeInput, oneParse: boolean): DecodeResult {
  if (value === null) return fail('not_json', 'message has no value (null or tombstone)');
  const text = toText(value);
  if (text === undefined) return fail('not_json', 'message value is not valid UTF-8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return fail('not_json', `message value is not JSON: ${(error as Error).message}`);
  }

  // Nearly every message is a valid event: one parse by its type's full schema (envelope and data)
  // decides it. What that parse refuses, or a key or topic that does not fit, is decoded stage by
  // stage below, for the first thing that is wrong: what passes here passes every stage.
  const known = knownType(raw);
  if (oneParse && known !== undefined && (topic === undefined || TOPIC_OF_TYPE[known] === topic)) {
    const event = EVENT_SCHEMAS[known].safeParse(raw);
    if (event.success && key !== null && toText(key) === event.data.accountid) return { ok: true, event: event.data };
  }

  const envelope = envelopeSchema.safeParse(raw, { error: readableIssue });
  if (!envelope.success) return fail('bad_envelope', formatIssues(envelope.error.issues));
  const { accountid, type } = envelope.data;

  const keyText = key === null ? undefined : toText(key);
  if (keyText !== accountid) {
    return fail('account_mismatch', `accountid ${quote(accountid)} differs from message key ${describeKey(key, keyText)}`);
  }
  if (!isEventType(type)) return fail('unknown_type', `unknown event type ${quote(type)}`);
  if (topic !== undefined && TOPIC_OF_TYPE[type] !== topic) {
    return fail('wrong_topic', `event type ${quote(type)} belongs to topic "${TOPIC_OF_TYPE[type]}", not "${topic}"`);
  }

  // The envelope passed, so any issue left is in `data` (issue paths start with "data.").
  const event = EVENT_SCHEMAS[type].safeParse(raw, { error: readableIssue });
  if (!event.success) return fail('bad_data', formatIssues(event.error.issues));
  return { ok: true, event: event.data };
}
