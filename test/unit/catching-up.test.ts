import { describe, expect, it } from 'vitest';
import { HEAVY_ROUND_BYTES, catchingUpAccounts } from '../../src/projector/catching-up.ts';

/** A heavy round of `big` that consumed 4,000 events over two partitions. */
const consumed = new Map([
  ['roles:0', new Map([['big', 3_000]])],
  ['members:0', new Map([['big', 1_000]])],
]);
const waiting = (n: number) => (accountId: string) => (accountId === 'big' ? n : 0);

describe("a heavy round's account going into its next round while the round writes", () => {
  it('goes when twice what the round consumed waits again and the memory budget has room for another round', () => {
    const result = catchingUpAccounts({ accounts: ['big'], consumed, waiting: waiting(8_000), otherWriting: false, room: 2 * HEAVY_ROUND_BYTES });
    expect(result).toEqual({ early: new Set(['big']), heldForMemory: false });
  });

  it('stays until written when less waits: its next round would be smaller than this one', () => {
    const result = catchingUpAccounts({ accounts: ['big'], consumed, waiting: waiting(7_999), otherWriting: false, room: Infinity });
    expect(result).toEqual({ early: new Set(), heldForMemory: false });
  });

  it('stays until written while another heavy round released early still writes', () => {
    const result = catchingUpAccounts({ accounts: ['big'], consumed, waiting: waiting(50_000), otherWriting: true, room: Infinity });
    expect(result.early.size).toBe(0);
  });

  it("stays until written when the memory budget has no room for a second round's documents, and says so", () => {
    const result = catchingUpAccounts({ accounts: ['big'], consumed, waiting: waiting(50_000), otherWriting: false, room: HEAVY_ROUND_BYTES - 1 });
    expect(result).toEqual({ early: new Set(), heldForMemory: true });
    // Over the budget (negative room) likewise.
    expect(catchingUpAccounts({ accounts: ['big'], consumed, waiting: waiting(50_000), otherWriting: false, room: -1 }).early.size).toBe(0);
  });

  it('is not counted as held for memory when it would have stayed anyway', () => {
    const result = catchingUpAccounts({ accounts: ['big'], consumed, waiting: waiting(10), otherWriting: false, room: 0 });
    expect(result).toEqual({ early: new Set(), heldForMemory: false });
  });
});
