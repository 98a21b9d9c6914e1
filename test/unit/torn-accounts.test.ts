import { describe, expect, it } from 'vitest';
import { createTornAccounts } from '../../src/projector/torn-accounts.ts';

const acc = (...ids: string[]) => new Map(ids.map((id) => [id, Number(id.replace(/\D/g, '') || -1)]));

/** One refresh as the publisher makes it: the marks set with its start, lifted with its end. */
function refresh(torn: ReturnType<typeof createTornAccounts>) {
  const at = torn.atRefresh();
  const { mark, lift } = at;
  torn.marked(at);
  torn.lifted(lift);
  return { mark: [...mark.keys()], lift };
}

describe('the accounts a refresh may show part-written (decision 59)', () => {
  it('an account is marked by the first refresh during its round in slices, and lifted by the first one after the round ended whole', () => {
    const torn = createTornAccounts();
    expect(refresh(torn)).toEqual({ mark: [], lift: [] });
    expect(torn.writing()).toBe(false);
    torn.begin(acc('a1', 'b2'));
    expect(torn.writing()).toBe(true);
    expect(torn.due()).toBe(false);
    expect(refresh(torn)).toEqual({ mark: ['a1', 'b2'], lift: [] });
    // Marked once: a later refresh during the same round sets nothing again.
    expect(refresh(torn)).toEqual({ mark: [], lift: [] });
    torn.end(acc('a1', 'b2'), true);
    expect(torn.writing()).toBe(false);
    expect(torn.due()).toBe(true);
    expect(refresh(torn)).toEqual({ mark: [], lift: ['a1', 'b2'] });
    expect(torn.due()).toBe(false);
  });

  it('a round that ends before any refresh comes is never marked', () => {
    const torn = createTornAccounts();
    torn.begin(acc('a1'));
    torn.end(acc('a1'), true);
    expect(refresh(torn)).toEqual({ mark: [], lift: [] });
  });

  it('the marks of a refresh whose Redis step failed are set again by the next one; lifts the same', () => {
    const torn = createTornAccounts();
    torn.begin(acc('a1'));
    expect(torn.atRefresh().mark.has('a1')).toBe(true); // not confirmed by `marked`
    expect(refresh(torn).mark).toEqual(['a1']);
    torn.end(acc('a1'), true);
    expect(torn.atRefresh().lift).toEqual(['a1']); // not confirmed by `lifted`
    expect(refresh(torn).lift).toEqual(['a1']);
  });

  it('two rounds of one account under way: lifted only once both have ended', () => {
    const torn = createTornAccounts();
    torn.begin(acc('a1'));
    torn.begin(acc('a1'));
    expect(refresh(torn).mark).toEqual(['a1']);
    torn.end(acc('a1'), true);
    expect(refresh(torn).lift).toEqual([]);
    torn.end(acc('a1'), true);
    expect(refresh(torn).lift).toEqual(['a1']);
  });

  it('a round that failed after writing part leaves its accounts torn until their outbox is written whole', () => {
    const torn = createTornAccounts();
    torn.begin(acc('a1'));
    torn.end(acc('a1'), false);
    // Even with no refresh during its slices: the failure gave the gate up with part of it written.
    expect(refresh(torn).mark).toEqual(['a1']);
    expect(refresh(torn).lift).toEqual([]);
    torn.recovered(['b2']);
    expect(refresh(torn).lift).toEqual([]);
    torn.recovered(['a1']);
    expect(refresh(torn).lift).toEqual(['a1']);
  });

  it('a failed early write or a round given up (`broke`) tears its accounts the same way', () => {
    const torn = createTornAccounts();
    torn.broke(acc('c3'));
    expect(refresh(torn).mark).toEqual(['c3']);
    torn.recovered(['c3']);
    expect(refresh(torn).lift).toEqual(['c3']);
  });

  it('the torn accounts no round holds part-written are those to ask Redis about (is their outbox written?)', () => {
    const torn = createTornAccounts();
    torn.broke(acc('a1', 'b2'));
    torn.begin(acc('b2'));
    expect(torn.idleBroken()).toEqual(['a1']);
    torn.end(acc('b2'), true);
    expect(torn.idleBroken()).toEqual(['a1', 'b2']);
    torn.recovered(['a1']);
    expect(torn.idleBroken()).toEqual(['b2']);
  });

  it('after a discard (Redis may have come back older) the next refresh marks every torn account again, and still lifts what it knew', () => {
    const torn = createTornAccounts();
    torn.begin(acc('a1', 'b2'));
    refresh(torn);
    torn.end(acc('b2'), true);
    torn.discard();
    expect(refresh(torn)).toEqual({ mark: ['a1'], lift: ['b2'] });
    expect(refresh(torn)).toEqual({ mark: [], lift: [] });
  });

  it('a refresh begun before a discard does not cancel it: the next one marks again', () => {
    const torn = createTornAccounts();
    torn.begin(acc('a1'));
    refresh(torn);
    const under = torn.atRefresh();
    torn.discard(); // say, its Redis step failed after it ran, or a rollback repair lifted every mark
    torn.marked(under);
    expect(refresh(torn).mark).toEqual(['a1']);
    expect(refresh(torn).mark).toEqual([]);
  });

  it('adopts the marks of its partitions found in Redis (a projector died with them), and forgets what it knew of other partitions', () => {
    const torn = createTornAccounts();
    torn.begin(acc('a1'));
    torn.broke(acc('b2'));
    refresh(torn);
    // Reassigned: partitions 1 and 3 are this projector's now; b2's partition went elsewhere.
    torn.adopt(
      new Map([
        ['c3', 3],
        ['d4', 4],
        ['e', -1],
      ]),
      new Set([1, 3]),
    );
    // a1 is still part-written here; c3 and e (no known partition) are whole once the outboxes are written.
    expect(refresh(torn)).toEqual({ mark: [], lift: ['c3', 'e'] });
    torn.end(acc('a1'), true);
    expect(refresh(torn)).toEqual({ mark: [], lift: ['a1'] });
    expect(torn.due()).toBe(false);
  });
});
