/**
 * Search terms for the keyword search: words of the display name and the email, folded to lower
 * case without diacritics, so that "mul" finds "Müller" and "cruz" finds "ana.cruz@example.com".
 * The projector stores them; the API folds the query the same way and matches word prefixes. Doing
 * this ourselves keeps the search identical on any OpenSearch, with or without its analysis modules.
 */

/** Lower case, compatibility-decomposed, combining marks removed. */
export function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** The words of a text: runs of letters and digits after folding. */
export function words(text: string): string[] {
  return fold(text).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Terms stored for a user: every word, plus the whole folded email. */
export function searchTerms(displayName: string, email: string): string[] {
  const terms = new Set([...words(displayName), ...words(email)]);
  const whole = fold(email).trim();
  if (whole) terms.add(whole);
  return [...terms];
}
