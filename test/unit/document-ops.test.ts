/**
 * A write's ops coalesced per document (src/records/document-ops.ts): sending only the op that
 * decides each document leaves the store as sending every op in order would, from any stored state.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DocOp } from '../../src/ports/documents.ts';
import { decidingOps } from '../../src/records/document-ops.ts';

/** A document as a store keeps it: its version (a delete's too, the tombstone) and its source, if any. */
type Stored = Map<string, { version: number; doc: string | undefined }>;

/** OpenSearch with `external_gte` versions: an op applies when no version is stored or its own is not older. */
function applyInOrder(start: Stored, ops: readonly DocOp[]): Stored {
  const stored = new Map(start);
  for (const op of ops) {
    const key = `${op.index}/${op.id}`;
    const current = stored.get(key);
    if (current && current.version > op.version) continue;
    stored.set(key, { version: op.version, doc: op.op === 'index' ? (op.doc as string) : undefined });
  }
  return stored;
}

const opArb: fc.Arbitrary<DocOp> = fc.oneof(
  fc.record({
    op: fc.constant('index' as const),
    index: fc.constantFrom('users', 'facts'),
    id: fc.constantFrom('a', 'b', 'c'),
    version: fc.integer({ min: 1, max: 6 }),
    doc: fc.string({ maxLength: 3 }),
  }),
  fc.record({ op: fc.constant('delete' as const), index: fc.constantFrom('users', 'facts'), id: fc.constantFrom('a', 'b', 'c'), version: fc.integer({ min: 1, max: 6 }) }),
);

const storedArb: fc.Arbitrary<Stored> = fc
  .array(fc.tuple(fc.constantFrom('users/a', 'users/b', 'facts/a', 'facts/c'), fc.integer({ min: 0, max: 6 }), fc.option(fc.string({ maxLength: 3 }), { nil: undefined })))
  .map((entries) => new Map(entries.map(([key, version, doc]) => [key, { version, doc }])));

describe('the ops that decide their documents', () => {
  it('leave any stored state as every op written in order would', () => {
    fc.assert(
      fc.property(storedArb, fc.array(opArb, { maxLength: 12 }), (start, ops) => {
        const { ops: deciding } = decidingOps(ops);
        expect(applyInOrder(start, deciding)).toEqual(applyInOrder(start, ops));
      }),
      { numRuns: 2_000 },
    );
  });

  it('keep one op per document, in the order given, and count the rest', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 12 }), (ops) => {
        const { ops: deciding, superseded } = decidingOps(ops);
        const documents = new Set(ops.map((op) => `${op.index}/${op.id}`));
        expect(deciding).toHaveLength(documents.size);
        expect(superseded).toBe(ops.length - documents.size);
        const positions = deciding.map((op) => ops.indexOf(op));
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
      }),
    );
  });

  it('of ops at one version, keeps the last; a later older op does not win', () => {
    const ops: DocOp[] = [
      { op: 'index', index: 'users', id: 'u', version: 3, doc: 'first' },
      { op: 'delete', index: 'users', id: 'u', version: 3 },
      { op: 'index', index: 'users', id: 'u', version: 2, doc: 'older, later' },
      { op: 'index', index: 'users', id: 'v', version: 1, doc: 'alone' },
    ];
    expect(decidingOps(ops)).toEqual({ ops: [ops[1], ops[3]], superseded: 2 });
  });

  it('hands back the same ops when no document repeats', () => {
    const ops: DocOp[] = [
      { op: 'index', index: 'users', id: 'u', version: 3, doc: 'x' },
      { op: 'index', index: 'facts', id: 'u', version: 3, doc: 'y' },
    ];
    expect(decidingOps(ops).ops).toBe(ops);
  });
});
