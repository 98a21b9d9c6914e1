import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import type { BulkResult, DocOp, DocumentsPort, WriteOptions } from '../../src/ports/documents.ts';
import { createWriteGate } from '../../src/projector/write-gate.ts';
import { createWriteGroup, type GroupedWrite } from '../../src/projector/write-group.ts';

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

function round(ids: string[], steps: string[], options: WriteOptions = {}): GroupedWrite {
  return { weight: ids.length + 1, ops: () => ids.map(op), options, after: (ops) => void steps.push(`after ${ops.map((o) => o.id).join(',')}`) };
}

/** A gate held by a neighbour's bulk until `release`, with a group over it and the bulks it writes. */
function busyGate(options: { maxOps?: number; fail?: (ids: string[]) => Error | undefined } = {}) {
  const gate = createWriteGate();
  const { bulks, documents } = bulkRecorder(options.fail);
  const group = createWriteGroup({ gate, documents, ...(options.maxOps === undefined ? {} : { maxOps: options.maxOps }) });
  let release!: () => void;
  const holder = gate.run(() => new Promise<void>((resolve) => (release = resolve)), 5_000);
  return { gate, bulks, group, steps: [] as string[], holder, release: () => release() };
}

describe('the write group (a group commit at the write gate)', () => {
  it('a round alone at a free gate is written at once in its own bulk', async () => {
    const gate = createWriteGate();
    const { bulks, documents } = bulkRecorder();
    const group = createWriteGroup({ gate, documents });
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
    const group = createWriteGroup({ gate, documents });
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
});
