import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, filterHash } from '../../src/api/cursor.ts';

const SECRET = 'a-secret-that-is-long-enough-for-hs256!';
const state = { pit: 'o463QQEKdGVzdA==', after: ['ana cruz', 'u1'], filter: filterHash({ q: 'ana' }), delivered: 50, position: 'zcc.users:0:12' };

describe('cursors', () => {
  it('round-trip, and are URL-safe', () => {
    const text = encodeCursor(state, SECRET);
    expect(text).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text, SECRET)).toEqual(state);
  });

  it('refuse tampering, another secret, and garbage', () => {
    const text = encodeCursor(state, SECRET);
    const [payload, sig] = text.split('.') as [string, string];
    const forged = Buffer.from(Buffer.from(payload, 'base64url').toString().replace('"d":50', '"d":0')).toString('base64url');
    expect(decodeCursor(`${forged}.${sig}`, SECRET)).toBeNull();
    expect(decodeCursor(text, `${SECRET}x`)).toBeNull();
    for (const junk of ['', '.', 'abc', 'abc.def', `${payload}.`, '🙂.🙂']) expect(decodeCursor(junk, SECRET)).toBeNull();
  });

  it('filter hashes depend on every part, not on key order', () => {
    expect(filterHash({ a: 1, b: 'x' })).toBe(filterHash({ b: 'x', a: 1 }));
    expect(filterHash({ a: 1, b: 'x' })).not.toBe(filterHash({ a: 1, b: 'y' }));
    expect(filterHash({ a: undefined })).toBe(filterHash({ a: null }));
  });
});
