/**
 * A user's document at T rebuilt from the items of GET /users/{id}/history alone: every change whose
 * `at` is at or before T, in the order given. What an auditor reading the history would conclude.
 */
import { type Entry, type Profile, type UserDoc, compareEntries, entryKey } from '../../projections/index.ts';

export type HistoryApiItem =
  | { at: string; kind: 'profile'; change: 'created' | 'updated' | 'deleted'; profile: Profile }
  | { at: string; kind: 'entry'; change: 'granted' | 'changed' | 'revoked'; entry: Entry };

export function replayHistoryItems(userId: string, items: readonly HistoryApiItem[], atMs: number): UserDoc | null {
  let profile: Profile | null = null;
  const entries = new Map<string, Entry>();
  for (const item of items) {
    if (Date.parse(item.at) > atMs) break;
    if (item.kind === 'profile') profile = item.change === 'deleted' ? null : item.profile;
    else if (item.change === 'revoked') entries.delete(entryKey(item.entry));
    else entries.set(entryKey(item.entry), item.entry);
  }
  return profile ? { user_id: userId, ...profile, entries: [...entries.values()].sort(compareEntries) } : null;
}
