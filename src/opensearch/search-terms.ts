/**
 * Search terms for the keyword search: words of the display name and the email, folded to lower
 * case without diacritics, so that "mul" finds "Müller" and "cruz" finds "ana.cruz@example.com".
 * The projector stores them; the API folds the query the same way and matches word prefixes. Doing
 * this ourselves keeps the search identical on any OpenSearch, with or without its analysis modules.
 */

/** Printable ASCII and nothing else: NFKD leaves it as it is and it has no combining marks. */
const ASCII = /^[\x20-\x7e]*$/;

/** Lower case, compatibility-decomposed, combining marks removed. */
export function fold(text: string): string {
  // Most names and every email are ASCII: folding them is lowering them (this runs for every document written).
  if (ASCII.test(text)) return text.toLowerCase();
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** The words of a text: runs of letters and digits after folding. */
export function words(text: string): string[] {
  const folded = fold(text);
  // In folded ASCII the letters and digits are a-z and 0-9.
  return (ASCII.test(folded) ? folded.match(/[a-z0-9]+/g) : folded.match(/[\p{L}\p{N}]+/gu)) ?? [];
}

/** Terms stored for a user: every word, plus the whole folded email. */
export function searchTerms(displayName: string, email: string): string[] {
  const terms = new Set([...words(displayName), ...words(email)]);
  const whole = fold(email).trim();
  if (whole) terms.add(whole);
  return [...terms];
}
