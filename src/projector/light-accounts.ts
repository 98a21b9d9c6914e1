/**
 * Which accounts of a committed round go into their next round while it still writes (decisions
 * 37 and 45): those whose plans took the least work, up to `limit` in all. A small account's
 * change is a few documents, so letting it go adds little to the write gate's queue; a neighbour's
 * fan-out in the same round keeps its account until written, and no longer holds the small one.
 */
export function lightAccounts(work: ReadonlyMap<string, number>, limit: number): Set<string> {
  const light = new Set<string>();
  let total = 0;
  for (const [accountId, n] of [...work].sort(([, a], [, b]) => a - b)) {
    if (total + n > limit) break;
    total += n;
    light.add(accountId);
  }
  return light;
}
