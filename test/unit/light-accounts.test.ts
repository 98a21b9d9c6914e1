import { describe, expect, it } from 'vitest';
import { lightAccounts } from '../../src/projector/light-accounts.ts';

describe('the light accounts of a committed round', () => {
  it("let a small account go beside a neighbour's fan-out, which keeps its account until written", () => {
    expect(
      lightAccounts(
        new Map([
          ['neighbour', 800],
          ['small', 3],
        ]),
        200,
      ),
    ).toEqual(new Set(['small']));
  });

  it('take the least work first, up to the limit in all', () => {
    const work = new Map([
      ['a', 120],
      ['b', 50],
      ['c', 40],
      ['d', 10],
    ]);
    expect(lightAccounts(work, 200)).toEqual(new Set(['d', 'c', 'b']));
    expect(lightAccounts(work, 220)).toEqual(new Set(['a', 'b', 'c', 'd']));
  });

  it('are none when every account took more than the limit', () => {
    expect(
      lightAccounts(
        new Map([
          ['a', 201],
          ['b', 5_000],
        ]),
        200,
      ),
    ).toEqual(new Set());
  });
});
