/**
 * One read of an account in a process of its own (bench/account-load.ts): how far the resident
 * memory rises above where it stood before the read, and the longest it held the event loop, with the facts hashes read whole in one MULTI
 * (`pieceSize` 0) or in pieces (decision 70). A fresh process per read: no freed pages of an earlier
 * read to reuse, no heap grown by the bench's own work.
 *
 *   node --import tsx bench/support/load-peak-worker.ts <namespace> <generation> <account> whole|default|<pieceSize>
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DEFAULT_DEDUPE_WINDOW_MS } from '../../projections/index.ts';
import { createAccountStore } from '../../src/redis/account-store.ts';
import { processMemory, resetPeakRss } from './load.ts';
import { workerServers } from './bench-namespace.ts';

const [namespace, generation, accountId, pieceSize] = process.argv.slice(2) as [string, string, string, string];
const { redis } = workerServers();
await redis.connect();
const store = createAccountStore(redis, { namespace, generation }, pieceSize === 'default' ? {} : { pieceSize: pieceSize === 'whole' ? 0 : Number(pieceSize) });
// The code paths compiled and the connection warm: a read of an account that does not exist.
await store.load(`${accountId}-absent`, DEFAULT_DEDUPE_WINDOW_MS);
const before = processMemory('self').rss;
// The peak starts again from here.
resetPeakRss();
// The longest the event loop was held during the read (a whole reply is parsed and decoded in one go).
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const started = performance.now();
const loaded = await store.load(accountId, DEFAULT_DEDUPE_WINDOW_MS);
const ms = performance.now() - started;
delay.disable();
const peak = processMemory('self').peakRss;
redis.disconnect();
process.stdout.write(`${JSON.stringify({ before, peak, ms, heldMs: delay.max / 1e6, rawFacts: loaded.raw.values.size })}\n`);
