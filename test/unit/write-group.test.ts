import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import type { BulkResult, DocOp, DocumentsPort, WriteOptions } from '../../src/ports/documents.ts';
import { createTornAccounts } from '../../src/projector/torn-accounts.ts';
import { createWriteGate } from '../../src/projector/write-gate.ts';
import { createWriteGroup, type GroupedWrite } from '../../src/projector/write-group.ts';
import type { WriteHandle } from '../../src/projector/write-order.ts';

const op = (id: string): DocOp => ({ op: 'index', index: 'users', id, version: 1, doc: { id } });

/** A bulk endpoint that records each request's ids, and refuses the documents named in `refused`. */
function bulkRecorder(fail?: (ids: string[]) => Error | undefined) {
  const bulks: string[][] = [];
  const documents: Pick<DocumentsPort, 'write'> = {
    async write(ops: readonly DocOp[], _options?: WriteOptions): Promise<BulkResult> {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const ids = ops.map((o) => o.id);
      bulks.push(ids);
      const error = fail?.(ids);
      if (error) throw error;
      return { indexed: ops.length, deleted: 0, stale: 0 };
    },
  };
  return { bulks, documents };
}

/** A round of the account its ids are named after (`b1`, `b2`: account `b`). */
function round(ids: string[], steps: string[], options: WriteOptions = {}): GroupedWrite {
  const accounts = new Map(ids.map((id) => [id.replace(/\d+$/, ''), 0]));
  return { weight: ids.length + 1, ops: () => ids.map(op), options, accounts: () => accounts, after: (ops) => void steps.push(`after ${ops.map((o) => o.id).join(',')}`) };
}

/** A gate held by a neighbour's bulk until `release`, with a group over it and the bulks it writes. */
function busyGate(options: { maxOps?: number; sliceOps?: number; now?: () => number; fail?: (ids: string[]) => Error | undefined } = {}) {
  const gate = createWriteGate();
  const { bulks, documents } = bulkRecorder(options.fail);
  const group = createWriteGroup({
    gate,
    documents,
    torn: createTornAccounts(),
    ...(options.maxOps === undefined ? {} : { maxOps: options.maxOps }),
    ...(options.sliceOps === undefined ? {} : { sliceOps: options.sliceOps }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  let release!: () => void;
  const holder = gate.run(() => new Promise<void>((resolve) => (release = resolve)), 5_000);
  return { gate, bulks, group, steps: [] as string[], holder, release: () => release() };
}

describe('the write group (a group commit at the write gate)', () => {
  it('a round alone at a free gate is written at once in its own bulk', async () => {
    const gate = createWriteGate();
    const { bulks, documents } = bulkRecorder();
    const group = createWriteGroup({ gate, documents, torn: createTornAccounts() });
    const steps: string[] = [];
    await group.write(round(['a1', 'a2'], steps));
    expect(bulks).toEqual([['a1', 'a2']]);
    expect(steps).toEqual(['after a1,a2']);
  });

  it('rounds that wait for the gate together go in one bulk, lightest first up to the cap; each round’s steps run in the gate after it, in the order they came', async () => {
    // A neighbour's bulk holds the gate; meanwhile four rounds and a refresh queue up.
    const { gate, bulks, group, steps, holder, release } = busyGate({ maxOps: 6 });
    const writes = [
      group.write(round(['big1', 'big2', 'big3', 'big4', 'big5'], steps)),
      group.write(round(['s1'], steps)),
      group.write(round(['m1', 'm2', 'm3'], steps)),
      group.write(round(['t1'], steps)),
    ];
    const refresh = gate.run(async () => void steps.push(`refresh sees ${bulks.flat().length}`), 0);
    release();
    await Promise.all([holder, ...writes, refresh]);
    // The refresh first (weight 0), then the lightest rounds within 6 ops (in the order they
    // came), then the one left.
    expect(bulks).toEqual([
      ['s1', 'm1', 'm2', 'm3', 't1'],
      ['big1', 'big2', 'big3', 'big4', 'big5'],
    ]);
    expect(steps).toEqual(['refresh sees 0', 'after s1', 'after m1,m2,m3', 'after t1', 'after big1,big2,big3,big4,big5']);
  });

  it('a refresh that waits meanwhile sees a group whole or not at all', async () => {
    const gate = createWriteGate();
    const { bulks, documents } = bulkRecorder();
    const group = createWriteGroup({ gate, documents, torn: createTornAccounts() });
    const seen: number[] = [];
    const steps: string[] = [];
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i++) {
      all.push(group.write(round([`r${i}a`, `r${i}b`], steps)));
      if (i % 3 === 0) all.push(gate.run(async () => void seen.push(steps.length), 0));
    }
    await Promise.all(all);
    // Every refresh saw a number of rounds' steps equal to the rounds of the bulks before it.
    const boundaries = new Set<number>([0]);
    let rounds = 0;
    for (const b of bulks) boundaries.add((rounds += b.length / 2));
    for (const n of seen) expect(boundaries.has(n)).toBe(true);
    expect(bulks.length).toBeLessThan(12);
  });

  it('a refused document fails only the round that holds it: the group writes its rounds alone', async () => {
    const refused = (ids: string[]): Error | undefined => (ids.includes('bad') ? new AppError('opensearch_rejected', 'mapper_parsing_exception on bad') : undefined);
    const { bulks, group, steps, holder, release } = busyGate({ fail: refused });
    const good = group.write(round(['g1'], steps));
    const bad = group.write(round(['bad', 'b2'], steps));
    release();
    await holder;
    await expect(good).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow('mapper_parsing_exception');
    expect(bulks).toEqual([['g1', 'bad', 'b2'], ['g1'], ['bad', 'b2']]);
    expect(steps).toEqual(['after g1']);
  });

  it('an outage fails every round of the group (each would have failed alone), and the gate goes on', async () => {
    let down = true;
    const { bulks, group, steps, holder, release } = busyGate({
      fail: () => (down ? new AppError('opensearch_unavailable', 'connect ECONNREFUSED 127.0.0.1:9200', { retriable: true }) : undefined),
    });
    const results = Promise.allSettled([group.write(round(['x1'], steps)), group.write(round(['y1'], steps))]);
    release();
    await holder;
    expect((await results).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(bulks).toEqual([['x1', 'y1']]);
    down = false;
    await group.write(round(['x1'], steps));
    expect(steps).toEqual(['after x1']);
  });

  it('rounds written with another version offset (a repair’s epoch) never share a bulk', async () => {
    const { bulks, group, steps, holder, release } = busyGate();
    const writes = [
      group.write(round(['e1a'], steps, { versionOffset: 2 ** 32 })),
      group.write(round(['e0a'], steps)),
      group.write(round(['e1b'], steps, { versionOffset: 2 ** 32 })),
    ];
    release();
    await Promise.all([holder, ...writes]);
    expect(bulks.map((b) => b.sort())).toEqual([['e1a', 'e1b'], ['e0a']]);
  });
  it('a round whose ops cannot be had fails the rounds waiting with it, and the gate goes on', async () => {
    const { bulks, group, steps, holder, release } = busyGate();
    const broken: GroupedWrite = {
      ...round(['z1'], steps),
      ops: () => {
        throw new Error('no ops');
      },
    };
    const results = Promise.allSettled([group.write(broken), group.write(round(['w1'], steps))]);
    release();
    await holder;
    expect((await results).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await group.write(round(['w2'], steps));
    expect(bulks).toEqual([['w2']]);
  });

  describe('a round behind the earlier rounds of its accounts that still wait in the group (decision 60)', () => {
    /** Joins `r` to the group; its handle, and the write. */
    function join(group: ReturnType<typeof createWriteGroup>, r: GroupedWrite): { handle: WriteHandle; written: Promise<void> } {
      let handle!: WriteHandle;
      const written = group.write({ ...r, joined: (h) => (handle = h) });
      return { handle, written };
    }

    it('goes in the same bulk after them, its steps after theirs, although it is lighter', async () => {
      const { bulks, group, steps, holder, release } = busyGate();
      const first = join(group, round(['a1', 'a2', 'a3'], steps));
      const other = join(group, round(['c1', 'c2'], steps));
      const second = group.write({ ...round(['a4'], steps), behind: [first.handle] });
      release();
      await Promise.all([holder, first.written, other.written, second]);
      expect(bulks).toEqual([['a1', 'a2', 'a3', 'c1', 'c2', 'a4']]);
      expect(steps).toEqual(['after a1,a2,a3', 'after c1,c2', 'after a4']);
    });

    it('never goes before them: when the bulk has no room for both, it waits for theirs', async () => {
      const { bulks, group, steps, holder, release } = busyGate({ maxOps: 4 });
      const first = join(group, round(['a1', 'a2', 'a3'], steps));
      const second = group.write({ ...round(['a4', 'a5'], steps), behind: [first.handle] });
      release();
      await Promise.all([holder, first.written, second]);
      expect(bulks).toEqual([
        ['a1', 'a2', 'a3'],
        ['a4', 'a5'],
      ]);
      expect(steps).toEqual(['after a1,a2,a3', 'after a4,a5']);
    });

    it('fails, unwritten, when their bulk fails', async () => {
      const { bulks, group, steps, holder, release } = busyGate({
        maxOps: 4,
        fail: (ids) => (ids.includes('a1') ? new AppError('opensearch_unavailable', 'connect ECONNREFUSED 127.0.0.1:9200', { retriable: true }) : undefined),
      });
      const first = join(group, round(['a1', 'a2', 'a3'], steps));
      const second = group.write({ ...round(['a4', 'a5'], steps), behind: [first.handle] });
      release();
      await holder;
      await expect(first.written).rejects.toThrow('ECONNREFUSED');
      await expect(second).rejects.toThrow('ECONNREFUSED');
      expect(bulks).toEqual([['a1', 'a2', 'a3']]);
      // The gate goes on.
      await group.write(round(['c1'], steps));
      expect(steps).toEqual(['after c1']);
    });

    it('fails, unwritten, when the group is written round by round and theirs is refused', async () => {
      const refused = (ids: string[]): Error | undefined => (ids.includes('bad') ? new AppError('opensearch_rejected', 'mapper_parsing_exception on bad') : undefined);
      const { bulks, group, steps, holder, release } = busyGate({ fail: refused });
      const good = group.write(round(['g1'], steps));
      const first = join(group, round(['bad', 'b2'], steps));
      const second = group.write({ ...round(['b3'], steps), behind: [first.handle] });
      release();
      await holder;
      await expect(good).resolves.toBeUndefined();
      await expect(first.written).rejects.toThrow('mapper_parsing_exception');
      // Its own failure, to be tried again (after the earlier round's retry), not the refusal of another round's document.
      await expect(second).rejects.toMatchObject({ code: 'store_conflict', retriable: true, message: expect.stringContaining('mapper_parsing_exception') });
      expect(bulks).toEqual([['g1', 'bad', 'b2', 'b3'], ['g1'], ['bad', 'b2']]);
      expect(steps).toEqual(['after g1']);
    });

    it('fails, unwritten by its own steps, when their steps after the bulk fail', async () => {
      const { bulks, group, steps, holder, release } = busyGate();
      const first = join(group, {
        ...round(['a1', 'a2'], steps),
        after: () => {
          throw new Error('positions not marked');
        },
      });
      const second = group.write({ ...round(['a3'], steps), behind: [first.handle] });
      const other = group.write(round(['c1'], steps));
      release();
      await holder;
      await expect(first.written).rejects.toThrow('positions not marked');
      await expect(second).rejects.toThrow('positions not marked');
      await other;
      expect(bulks).toEqual([['a1', 'a2', 'a3', 'c1']]);
      expect(steps).toEqual(['after c1']);
    });

    it('a big round behind a small one begins only once that one is written, even past its patience', async () => {
      let clock = 0;
      const { bulks, group, steps, holder, release } = busyGate({ maxOps: 4, sliceOps: 2, now: () => clock });
      const grow = group.write.bind(group);
      // Each bulk takes 600 ms of the clock: the last round is overdue while the first is in slices.
      group.write = (job) => grow({ ...job, ops: () => ((clock += 600), job.ops()) });
      const first = join(group, round(['m1', 'm2', 'm3', 'm4', 'm5', 'm6'], steps));
      const small = join(group, { ...round(['n1'], steps), behind: [first.handle] });
      const last = group.write({ ...round(['p1', 'p2', 'p3', 'p4', 'p5'], steps), behind: [small.handle] });
      release();
      await Promise.all([holder, first.written, small.written, last]);
      expect(bulks).toEqual([['m1', 'm2'], ['m3', 'm4'], ['m5', 'm6'], ['n1'], ['p1', 'p2'], ['p3', 'p4'], ['p5']]);
      expect(steps).toEqual(['after m1,m2,m3,m4,m5,m6', 'after n1', 'after p1,p2,p3,p4,p5']);
    });

    it('drops its older index of a document that a round it goes behind deletes in the same bulk (no reliance on the tombstone)', async () => {
      const { bulks, group, steps, holder, release } = busyGate();
      const del: DocOp = { op: 'delete', index: 'users', id: 'a1', version: 12 };
      const first = join(group, { ...round([], steps), weight: 2, ops: () => [del] });
      const older: DocOp = { op: 'index', index: 'users', id: 'a1', version: 7, doc: { id: 'a1' } };
      const second = group.write({ ...round(['a2'], steps), ops: () => [older, op('a2')], behind: [first.handle] });
      release();
      await Promise.all([holder, first.written, second]);
      expect(bulks).toEqual([['a1', 'a2']]);
      expect(steps).toEqual(['after a1', 'after a2']);
    });

    it('fails with its own retriable error when a turn fails before its bulk (their ops cannot be had)', async () => {
      const { group, steps, holder, release } = busyGate();
      const first = join(group, {
        ...round(['a1'], steps),
        ops: () => {
          throw new TypeError('no ops');
        },
      });
      const second = group.write({ ...round(['a2'], steps), behind: [first.handle] });
      release();
      await holder;
      await expect(first.written).rejects.toThrow(TypeError);
      await expect(second).rejects.toMatchObject({ code: 'store_conflict', retriable: true, message: expect.stringContaining('no ops') });
    });

    it('behind a big round, waits for its last slice while other small rounds go between the slices', async () => {
      // The clock stands still: the big round begins once no small round is ready, not from patience.
      const { bulks, group, steps, holder, release } = busyGate({ maxOps: 2, sliceOps: 2, now: () => 0 });
      const big = join(group, round(['b1', 'b2', 'b3', 'b4', 'b5'], steps));
      const behind = group.write({ ...round(['b6'], steps), behind: [big.handle] });
      const other = group.write(round(['c1'], steps));
      release();
      await Promise.all([holder, big.written, behind, other]);
      expect(bulks).toEqual([['c1'], ['b1', 'b2'], ['b3', 'b4'], ['b5'], ['b6']]);
      expect(steps).toEqual(['after c1', 'after b1,b2,b3,b4,b5', 'after b6']);
    });
  });

  describe('a big round in slices (decisions 58 and 59)', () => {
    /**
     * A group with slices of 2 ops; `onBulk` runs as each bulk is written (before it returns). A
     * refresh, as the publisher makes one, says what it sees, the accounts it marks torn and those it lifts.
     */
    function sliced(onBulk: (ids: string[]) => Error | undefined = () => undefined, now?: () => number) {
      const { bulks, documents } = bulkRecorder(onBulk);
      const gate = createWriteGate();
      const torn = createTornAccounts();
      const group = createWriteGroup({ gate, documents, torn, maxOps: 2, sliceOps: 2, ...(now ? { now } : {}) });
      const steps: string[] = [];
      const refresh = () =>
        gate.refresh(async () => {
          const at = torn.atRefresh();
          const { mark, lift } = at;
          torn.marked(at);
          torn.lifted(lift);
          const marks = [...[...mark.keys()].map((a) => `+${a}`), ...lift.map((a) => `-${a}`)];
          steps.push(`refresh sees ${bulks.flat().join(',')}${marks.length > 0 ? ` (${marks.join(' ')})` : ''}`);
        });
      return { bulks, gate, group, steps, refresh, torn };
    }

    it('the small rounds that wait go between its slices, and so does a refresh, which marks the round’s accounts torn until a refresh after its last slice', async () => {
      const later: Promise<unknown>[] = [];
      const t = sliced((ids) => {
        // While its first slice is written, a small round and a refresh come.
        if (ids[0] === 'b1') later.push(t.group.write(round(['t1'], t.steps)), t.refresh());
        return undefined;
      });
      const holder = t.gate.run(() => new Promise<void>((resolve) => setTimeout(resolve, 10)), 5_000);
      const writes = [t.group.write(round(['b1', 'b2', 'b3', 'b4', 'b5'], t.steps)), t.group.write(round(['s1'], t.steps))];
      await Promise.all([holder, ...writes]);
      await Promise.all(later);
      expect(t.bulks).toEqual([['s1'], ['b1', 'b2'], ['t1'], ['b3', 'b4'], ['b5']]);
      // The refresh went right after the first slice (the lightest), marking b; the small round
      // after it; no refresh waits for the big round's end.
      expect(t.steps).toEqual(['after s1', 'refresh sees s1,b1,b2 (+b)', 'after t1', 'after b1,b2,b3,b4,b5']);
      // The next refresh shows b whole and lifts its mark.
      await t.refresh();
      expect(t.steps.at(-1)).toBe('refresh sees s1,b1,b2,t1,b3,b4,b5 (-b)');
      expect(t.torn.due()).toBe(false);
    });

    it('a big round waits for the small ones, but not past its patience: then its slices take every other turn', async () => {
      const later: Promise<unknown>[] = [];
      let n = 0;
      let clock = 0;
      const t = sliced(
        () => {
          clock += 400;
          // Each bulk brings a new small round, six in all.
          if (n < 6) later.push(t.group.write(round([`s${n++}`], t.steps)));
          return undefined;
        },
        () => clock,
      );
      await Promise.all([t.group.write(round(['s'], t.steps)), t.group.write(round(['m1', 'm2', 'm3'], t.steps))]);
      await Promise.all(later);
      // Each bulk takes 400 ms of the clock: the big round is overdue after three (1,000 ms).
      expect(t.bulks.slice(0, 7)).toEqual([['s'], ['s0'], ['s1'], ['m1', 'm2'], ['s2', 's3'], ['m3'], ['s4', 's5']]);
    });

    it('what the write order drops between its slices (a retried round’s newer deletes) is not written by a later slice', async () => {
      const dropped = new Set<string>();
      const t = sliced((ids) => {
        // While its first slice is written, an earlier round's retry deletes b3 at a newer version.
        if (ids[0] === 'b1') dropped.add('b3');
        return undefined;
      });
      const held = ['b1', 'b2', 'b3', 'b4', 'b5'].map(op);
      await t.group.write({ ...round([], t.steps), weight: 6, ops: () => held.filter((o) => !dropped.has(o.id)) });
      expect(t.bulks).toEqual([
        ['b1', 'b2'],
        ['b4', 'b5'],
      ]);
      expect(t.steps).toEqual(['after b1,b2,b4,b5']);
    });

    it('a small round whose ops cannot be had fails alone while a big round is under way; the big round ends whole', async () => {
      const later: Promise<unknown>[] = [];
      const t = sliced((ids) => {
        if (ids[0] === 'b1') {
          const broken: GroupedWrite = {
            ...round(['z1'], t.steps),
            ops: () => {
              throw new Error('no ops');
            },
          };
          later.push(expect(t.group.write(broken)).rejects.toThrow('no ops'), t.refresh());
        }
        return undefined;
      });
      await t.group.write(round(['b1', 'b2', 'b3'], t.steps));
      await Promise.all(later);
      expect(t.steps).toEqual(['refresh sees b1,b2 (+b)', 'after b1,b2,b3']);
      await t.refresh();
      expect(t.steps.at(-1)).toBe('refresh sees b1,b2,b3 (-b)');
    });

    it('one big round at a time: the next begins once the last has ended', async () => {
      const t = sliced();
      await Promise.all([t.group.write(round(['a1', 'a2', 'a3'], t.steps)), t.group.write(round(['c1', 'c2', 'c3'], t.steps))]);
      expect(t.bulks).toEqual([['a1', 'a2'], ['a3'], ['c1', 'c2'], ['c3']]);
    });

    it('a slice that fails fails its round alone and leaves its accounts torn until their outbox is written whole; the gate goes on', async () => {
      const t = sliced((ids) => (ids.includes('b3') ? new AppError('opensearch_unavailable', 'connect ECONNREFUSED 127.0.0.1:9200', { retriable: true }) : undefined));
      const big = t.group.write(round(['b1', 'b2', 'b3', 'b4'], t.steps));
      await expect(big).rejects.toThrow('ECONNREFUSED');
      // No refresh came during its slices, but its first slice is written and the gate is free.
      await t.refresh();
      await t.group.write(round(['s1'], t.steps));
      await t.refresh();
      expect(t.steps).toEqual(['refresh sees b1,b2,b3,b4 (+b)', 'after s1', 'refresh sees b1,b2,b3,b4,s1']);
      t.torn.recovered(['b']);
      await t.refresh();
      expect(t.steps.at(-1)).toBe('refresh sees b1,b2,b3,b4,s1 (-b)');
    });

    it('a group bulk that failed after part of it was applied leaves its failed rounds torn', async () => {
      const t = sliced((ids) => (ids.includes('y1') ? new AppError('opensearch_rejected', 'bulk write failed for 1 documents', { details: { partlyApplied: true } }) : undefined));
      await expect(t.group.write(round(['y1'], t.steps))).rejects.toThrow('bulk write failed');
      await t.refresh();
      expect(t.steps).toEqual(['refresh sees y1 (+y)']);
    });

    it('a small round whose one bulk fails is not marked: an outage that refuses writes does not refuse its accounts’ readers', async () => {
      const t = sliced((ids) => (ids.includes('x1') ? new AppError('opensearch_unavailable', 'connect ECONNREFUSED 127.0.0.1:9200', { retriable: true }) : undefined));
      await expect(t.group.write(round(['x1'], t.steps))).rejects.toThrow('ECONNREFUSED');
      await t.refresh();
      expect(t.steps).toEqual(['refresh sees x1']);
    });
  });
});
