/**
 * How an account's stored values are encoded, shared by every account-state implementation (the
 * Redis adapter and the in-memory twin): raw facts as JSON `{v, f}`, outbox entries as
 * `<version>\n<payload>` so that a clear can tell old entries from new ones, and a commit's fact
 * changes coalesced so that each key is written once, with its last value.
 */
import type { FactChange } from '../../projections/index.ts';
import { emptyRaw, type RawState, type RawValue, sharedName } from './fact-intervals.ts';

/** Decodes raw facts (into `raw` when given: a store read in pieces adds each piece in turn). */
export function decodeRaw(entries: Iterable<readonly [string, string]>, raw: RawState = emptyRaw()): RawState {
  for (const [key, json] of entries) {
    const { v, f } = JSON.parse(json) as RawValue;
    raw.values.set(key, v);
    f.type = sharedName(f.type);
    f.topic = sharedName(f.topic);
    raw.opened.set(key, f);
  }
  return raw;
}

export function outboxValue(version: number, payload: string): string {
  return `${version}\n${payload}`;
}

/** The version an outbox value was written at. */
export function outboxVersion(value: string): number {
  return Number(value.slice(0, value.indexOf('\n')));
}

export function decodeIntervalOutbox(entries: Iterable<readonly [string, string]>): Map<string, { version: number; json: string }> {
  const out = new Map<string, { version: number; json: string }>();
  for (const [id, value] of entries) {
    const nl = value.indexOf('\n');
    out.set(id, { version: Number(value.slice(0, nl)), json: value.slice(nl + 1) });
  }
  return out;
}

/** Coalesces flat changes so each key is written once, with its last value. */
export function coalesce(changes: readonly FactChange[]): { set: [string, string][]; del: string[] } {
  const last = new Map<string, string | null>();
  for (const c of changes) last.set(c.key, c.value);
  const set: [string, string][] = [];
  const del: string[] = [];
  for (const [k, v] of last)
    if (v === null) del.push(k);
    else set.push([k, v]);
  return { set, del };
}

/** A commit's raw fact changes split into values to set (as JSON) and keys to delete. */
export function splitRawChanges(changes: ReadonlyMap<string, RawValue | null>): { set: [string, string][]; del: string[] } {
  const set: [string, string][] = [];
  const del: string[] = [];
  for (const [key, value] of changes)
    if (value === null) del.push(key);
    else set.push([key, JSON.stringify(value)]);
  return { set, del };
}

/** The message of a refused applied raise: the store lost applied events since they were checked. */
export function appliedGapMessage(field: string): string {
  return `the store's applied offset of ${field} no longer reaches the batch: it lost applied events since they were checked`;
}
