import { describe, expect, it } from 'vitest';
import { formatPositions, lagBehind, parsePositions, unknownTopics } from '../../src/api/position.ts';

describe('positions', () => {
  it('formats topic:partition:offset, sorted by topic then partition number', () => {
    const positions = new Map([
      ['zcc.users:10', 5n],
      ['zcc.users:2', 7n],
      ['zcc.inboxes:0', 118n],
    ]);
    expect(formatPositions(positions)).toBe('zcc.inboxes:0:118,zcc.users:2:7,zcc.users:10:5');
    expect(formatPositions(new Map())).toBe('');
  });

  it('parses what it formats, offsets beyond 2^53 included', () => {
    const text = 'zcc.users:0:9007199254740993,t-1.zcc_roles-x:3:0';
    const parsed = parsePositions(text);
    expect(parsed).toEqual({
      ok: true,
      positions: new Map([
        ['zcc.users:0', 9007199254740993n],
        ['t-1.zcc_roles-x:3', 0n],
      ]),
    });
    expect(parsePositions('')).toEqual({ ok: true, positions: new Map() });
  });

  it('refuses a partition listed twice and offsets beyond int64', () => {
    expect(parsePositions('a:0:1,a:0:2')).toEqual({ ok: false, message: 'lists a:0 twice' });
    expect(parsePositions('a:0:9999999999999999999').ok).toBe(false);
  });

  it('says where the index lags: missing partitions and lower offsets, not higher ones', () => {
    const wanted = new Map([
      ['b:1', 10n],
      ['a:0', 5n],
      ['c:0', 3n],
    ]);
    const have = new Map([
      ['a:0', 5n],
      ['b:1', 9n],
      ['d:0', 100n],
    ]);
    expect(lagBehind(wanted, have)).toEqual([
      { topic: 'b', partition: 1, wanted: '10', have: '9' },
      { topic: 'c', partition: 0, wanted: '3', have: null },
    ]);
    expect(lagBehind(new Map([['a:0', 4n]]), have)).toEqual([]);
  });

  it('names topics the index does not read', () => {
    expect(
      unknownTopics(
        new Map([
          ['zcc.users:0', 1n],
          ['zcc.usres:0', 1n],
        ]),
        ['zcc.users', 'zcc.roles'],
      ),
    ).toEqual(['zcc.usres']);
  });
});
