/**
 * An `as_of` answer derives every document of the account at T (about 8 s of CPU for the
 * 50,000-agent account): `paced` lets the API's event loop turn while it does, so that the other
 * requests of that moment are answered meanwhile instead of after it.
 */
import { describe, expect, it } from 'vitest';
import { paced } from '../../src/audit/facts-at.ts';
import { DOCS_PER_PAUSE, docOps } from '../../src/projector/project-batch.ts';

describe('documents derived in turns of the event loop (as_of answers)', () => {
  it('lets a request that arrived meanwhile be handled before the last document, and gives every item in order', async () => {
    let derived = 0;
    function* derive(): Generator<number> {
      for (let i = 0; i < 1_000; i++) {
        derived += 1;
        yield i;
      }
    }
    // What the API's other requests wait for: the event loop's next turn (timers, sockets).
    let handledAfter: number | undefined;
    setImmediate(() => {
      handledAfter = derived;
    });
    const items: number[] = [];
    for await (const item of paced(derive(), 200)) items.push(item);
    expect(items).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
    expect(handledAfter).toBeGreaterThan(0);
    expect(handledAfter).toBeLessThan(1_000);
  });
});

describe("a commit's documents serialized in turns of the event loop (the projector, decision 61)", () => {
  it('lets what arrived meanwhile (a Redis reply, a turn at the write gate) run before the last document, and gives every op in order', async () => {
    const users = Array.from({ length: 1_000 }, (_, i) => `u${i}`);
    let made = 0;
    let handledAfter: number | undefined;
    setImmediate(() => {
      handledAfter = made;
    });
    const pace = () => new Promise<void>((resolve) => setImmediate(resolve));
    const ops = await docOps(pace, users, (userId) => {
      made += 1;
      return { op: 'delete', index: 'users', id: userId, version: 1 };
    });
    expect(ops.map((op) => op.id)).toEqual(users);
    expect(handledAfter).toBeGreaterThan(0);
    expect(handledAfter).toBeLessThanOrEqual(DOCS_PER_PAUSE);
  });
});
