/**
 * The CSV export's rows (pure): one row per (user, entry) that counts under the filter, so a
 * spreadsheet can pivot by user, target or rule without a second lookup.
 */
import { type ReportFilter, type UserDoc, canAccess, filterEntries } from '../../projections/index.ts';

export const CSV_COLUMNS = [
  'user_id',
  'display_name',
  'user_email',
  'user_access',
  'can_access',
  'access_type',
  'target_type',
  'target_id',
  'target_name',
  'queues',
  'channels',
  'rules',
] as const;

// Spreadsheets run a cell starting with one of these as a formula. Names and emails come from
// another system, so a hostile display name could otherwise run in an admin's spreadsheet.
const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell value made inert for spreadsheets: a leading formula character gets a `'` before it. */
export function neutralizeFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** The user's rows under the filter: none when no entry counts. */
export function csvRows(doc: UserDoc, filter: ReportFilter): string[][] {
  const entries = filterEntries(doc.entries, filter);
  const count = String(canAccess(entries));
  return entries.map((entry) =>
    [
      doc.user_id,
      doc.display_name,
      doc.user_email,
      doc.user_access,
      count,
      entry.access_type,
      entry.target.type,
      entry.target.id,
      entry.target.name,
      entry.queues.map((q) => q.id).join(';'),
      entry.channels.join(';'),
      [...new Set(entry.granted_by.map((p) => p.rule))].sort().join(';'),
    ].map(neutralizeFormula),
  );
}
