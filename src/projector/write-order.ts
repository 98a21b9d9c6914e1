/**
 * One account's writes in the order of its commits (docs/decisions.md 37). A light round lets its
 * accounts go once it has committed them to Redis, so the next round of an account can commit while
 * the previous one still writes; its writes wait for the previous one's last write to be made or
 * for it to end (given up; decision 45: no longer for its steps after the write), so that
 * OpenSearch receives each account's documents in version order and never an older version after
 * a newer delete, and an account's own searchable offsets are claimed in order.
 * A round never waits here while it holds the write gate or an account's lock (no cycle: it only
 * ever waits for rounds taken before it).
 *
 * One case the order alone does not cover: a round that fails after committing reloads its
 * accounts when it tries again and writes their outbox at the version it finds, which may be that
 * of a later round's commits; that later round still holds what it derived at its own, older,
 * version and writes it after. OpenSearch refuses an older index or delete after a newer index
 * (external versions), but after a newer delete only while its tombstone lives (`index.gc_deletes`,
 * 60 s): so the order remembers the deletes written while a round taken before them may still
 * hold older ops, and drops those ops (decision 42).
 */
import type { DocOp } from '../ports/documents.ts';
import { docKey } from '../records/document-ops.ts';

/** A round's last write in the write group (src/projector/write-group.ts), as a later round of its accounts sees it. */
export interface WriteHandle {
  readonly state: 'waiting' | 'writing' | 'written' | 'failed';
  /** why it failed (a round behind it fails because of it) */
  readonly failure?: unknown;
}

/**
 * `ops` without the index ops of documents deleted at a later version (`deletedAt` gives the
 * newest delete of a document by its `docKey`): OpenSearch would refuse them only while the
 * delete's tombstone lives (decision 42).
 */
export function withoutDeleted(ops: readonly DocOp[], deletedAt: (key: string) => number | undefined): readonly DocOp[] {
  return ops.filter((op) => op.op !== 'index' || (deletedAt(docKey(op)) ?? -Infinity) <= op.version);
}

export interface WriteTurn {
  /** settles once every earlier round of the turn's accounts has ended */
  prior: Promise<void>;
  /** the round has ended (its writes made or given up): later rounds of its accounts may write */
  done(): void;
  /**
   * The round's last write is made (decision 45): later rounds of its accounts may write now, before
   * it ends. True when such a round waits for it (it is handed the gate first: see project-batch).
   * A round that fails after its write tries again with its accounts reloaded and writes their
   * outbox at the version it finds, newer than the later rounds' own: OpenSearch refuses their
   * older ops after it, or `keep` drops them after its deletes, as when a round fails before.
   */
  written(): boolean;
  /** `ops` without the index ops of documents deleted at a later version by a round's write since a round still running was taken */
  keep(ops: readonly DocOp[]): readonly DocOp[];
  /** `ops` were written: their deletes are remembered until every round taken before has ended */
  wrote(ops: readonly DocOp[]): void;
  /** The round's last write waits in the write group as `handle` (a later round of its accounts may join it there). */
  joined(handle: WriteHandle): void;
  /**
   * The group writes of the earlier rounds of the turn's accounts that have not ended, when every
   * such round's last write waits in the write group (none of its bulk made yet): then the round
   * may join the group without waiting for `prior`, and is written in the same bulk after them or
   * in a later one (decision 60). Undefined when one of them has not joined the group, or is being
   * written, or failed: then the round waits for `prior`.
   */
  behind(): readonly WriteHandle[] | undefined;
}

interface Entry {
  /** this round and every earlier round of its accounts have ended */
  ended: Promise<void>;
  /** `ended` has settled */
  settled: boolean;
  /** a later round of its accounts waits for it */
  followed: boolean;
  /** its last write in the write group, once it has joined */
  write?: WriteHandle;
}

// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createWriteOrder() {
  /** per account, the end of its last round taken and of every round of it before that one, and whether a later round waits for it */
  const last = new Map<string, Entry>();
  /** the rounds not ended yet, by the number they were taken with (in that order) */
  const open = new Set<number>();
  let taken = 0;
  /** per index and document, the newest delete written, and the last round taken when it was */
  const deleted = new Map<string, { version: number; taken: number }>();

  /** Forgets the deletes that no round still running was taken before. */
  function prune(): void {
    const oldest = open.values().next().value ?? Infinity;
    for (const [id, d] of deleted) {
      if (d.taken >= oldest) break;
      deleted.delete(id);
    }
  }

  return {
    /** A round takes `accounts`: what its writes wait for, and how it says it ended. */
    enter(accounts: Iterable<string>): WriteTurn {
      const ids = [...accounts];
      const number = ++taken;
      open.add(number);
      let end!: () => void;
      const mine = new Promise<void>((resolve) => (end = resolve));
      const previous = ids.flatMap((id) => last.get(id) ?? []);
      for (const p of previous) p.followed = true;
      const before = previous.map((p) => p.ended);
      const prior = before.length === 0 ? Promise.resolve() : Promise.all(before).then(() => undefined);
      // A later round waits for this one and for everything this one waits for: a round that ends
      // early (given back) must not let the next one write before an earlier round still writing.
      const ended = Promise.all([prior, mine]).then(() => undefined);
      const entry: Entry = { ended, settled: false, followed: false };
      for (const id of ids) last.set(id, entry);
      void ended.then(() => {
        entry.settled = true;
        for (const id of ids) if (last.get(id) === entry) last.delete(id);
      });
      return {
        prior,
        done() {
          end();
          open.delete(number);
          prune();
        },
        written() {
          end();
          return entry.followed;
        },
        joined(handle) {
          entry.write = handle;
        },
        behind() {
          const handles: WriteHandle[] = [];
          for (const p of new Set(previous)) {
            if (p.settled || p.write?.state === 'written') continue;
            if (p.write?.state !== 'waiting') return undefined;
            handles.push(p.write);
          }
          return handles;
        },
        keep(ops) {
          if (deleted.size === 0) return ops;
          return withoutDeleted(ops, (k) => deleted.get(k)?.version);
        },
        wrote(ops) {
          for (const op of ops) {
            if (op.op !== 'delete') continue;
            const k = docKey(op);
            const version = Math.max(op.version, deleted.get(k)?.version ?? -Infinity);
            // Set again at the end: the map stays in the order of `taken`, which `prune` relies on.
            deleted.delete(k);
            deleted.set(k, { version, taken });
          }
        },
      };
    },
    /** accounts whose last round, or a round before it, has not ended */
    size: () => last.size,
    /** deletes remembered (for tests) */
    remembered: () => deleted.size,
  };
}
