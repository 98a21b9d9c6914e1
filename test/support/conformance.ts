/**
 * The conformance scenarios (a copy of the contract's cases.json, kept in test/fixtures) and the
 * shape their answers are compared in, shared by the unit test of the core and the pipeline tests.
 */
import { readFileSync } from 'node:fs';
import type { AccessType, Channel, ReportFilter, Summary, UserDoc } from '../../projections/index.ts';
import { CHANNELS, accessTypes, canAccess, filterEntries, reportRow } from '../../projections/index.ts';

export interface CaseEvent {
  topic: string;
  key: string;
  value: {
    id: string;
    type: string;
    time: string;
    accountid: string;
    data: Record<string, unknown>;
    [k: string]: unknown;
  };
}

export interface ExpectedRow {
  user_id: string;
  can_access: number;
  access_types: AccessType[];
}

interface ExpectedEntry {
  access_type: AccessType;
  target: { type: 'inbox' | 'queue'; id: string; name: string };
  queues: string[];
  channels: Channel[];
  rules: string[];
}

export interface ConformanceCase {
  name: string;
  events: CaseEvent[];
  expect: {
    summary: Summary;
    summary_by_channel: Record<Channel, Summary>;
    rows: { user_id: string; can_access: number; access_types: AccessType[] }[];
    rows_by_channel: Record<Channel, { user_id: string; can_access: number; access_types: AccessType[] }[]>;
    users: Record<string, null | { can_access: number; access_types: AccessType[]; entries: ExpectedEntry[] }>;
    queues: Record<string, Record<AccessType, number>>;
    /** GET /inboxes: users per inbox */
    inboxes: Record<string, number>;
    /** GET /users?inbox_id= and ?cc_queue_id=, per id */
    rows_by_inbox_id: Record<string, ExpectedRow[]>;
    rows_by_cc_queue_id: Record<string, ExpectedRow[]>;
  };
}

export function loadConformanceCases(): ConformanceCase[] {
  const url = new URL('../fixtures/conformance-cases.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { cases: ConformanceCase[] }).cases;
}

/** A drill-down in the fixture's shape, entries in a stable order (the fixture's order is not). */
export function drillDownShape(doc: UserDoc | null) {
  if (!doc) return null;
  const entries = doc.entries
    .map((e) => ({
      access_type: e.access_type,
      target: e.target,
      queues: e.queues.map((q) => q.id),
      channels: e.channels,
      rules: [...new Set(e.granted_by.map((p) => p.rule))].sort(),
    }))
    .sort(byEntryKey);
  return { can_access: canAccess(doc.entries), access_types: accessTypes(doc.entries), entries };
}

export function byEntryKey(a: ExpectedEntry, b: ExpectedEntry): number {
  const x = `${a.access_type}|${a.target.id}`;
  const y = `${b.access_type}|${b.target.id}`;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The fixture's expectation for a user, in the same stable order. */
export function expectedDrillDown(expected: ConformanceCase['expect']['users'][string]) {
  if (!expected) return null;
  return { ...expected, entries: [...expected.entries].sort(byEntryKey) };
}

export function sortRows<T extends { user_id: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0));
}

/** Entries narrowed to a channel, as the fixture's per-channel rows see them. */
export function channelRow(doc: UserDoc, channel: Channel) {
  const entries = filterEntries(doc.entries, { channel });
  return entries.length === 0 ? null : { user_id: doc.user_id, can_access: canAccess(entries), access_types: accessTypes(entries) };
}

/** The rows the users listing gives under a filter, in the fixture's shape and a stable order. */
export function filteredRows(docs: Iterable<UserDoc>, filter: ReportFilter): ExpectedRow[] {
  return sortRows(
    [...docs].flatMap((d) => {
      const row = reportRow(d, filter);
      return row ? [{ user_id: row.user_id, can_access: row.can_access, access_types: row.access_types }] : [];
    }),
  );
}

export { CHANNELS };
