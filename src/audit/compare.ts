/** Text order as OpenSearch sorts keywords: by code point (UTF-8 byte order), not UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  // At the first differing unit, compare whole code points (a surrogate pair outranks the BMP).
  const x = a.codePointAt(i)!;
  const y = b.codePointAt(i)!;
  return x - y;
}
