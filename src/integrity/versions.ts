/**
 * External versions of the documents in OpenSearch: `epoch × 2^32 + account version`. The account
 * version counts an account's commits in Redis; the epoch is the generation's, raised by every
 * rollback repair. A Redis that went back in time counts versions again from an older value, and
 * OpenSearch would refuse those writes as stale (it holds the lost state's higher versions); with
 * the raised epoch every write after the repair outranks anything the lost state wrote.
 * Epochs up to 2^20 and versions below 2^32 keep the sum a safe integer.
 */

export const EPOCH_UNIT = 2 ** 32;

/** What is added to an account version to make the external version of the epoch. */
export function versionOffset(epoch: number): number {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch >= 2 ** 20) throw new RangeError(`epoch out of range: ${epoch}`);
  return epoch * EPOCH_UNIT;
}
