/** Prometheus metrics of the projector and the API, on one registry served at /metrics. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Where a round's time goes, stage by stage (decision 36). */
function roundStageSeconds(registers: Registry[]) {
  return new Histogram({
    name: 'access_index_round_stage_seconds',
    help: "A round's stages: lane wait of its oldest event, check, commit (plan + Redis), write (bulk + gate), publish (write to refresh)",
    labelNames: ['stage'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
}

/** How many rounds' last writes went in each bulk (the write gate's group commit, decision 56). */
function bulkRounds(registers: Registry[]) {
  return new Histogram({ name: 'access_index_bulk_rounds', help: 'Rounds whose last writes went in one bulk (group commit)', buckets: [1, 2, 3, 4, 6, 8, 12, 16], registers });
}

/** What the process keeps alive, and how its memory budget holds it (src/memory-budget.ts). */
function heapGauges(registers: Registry[]) {
  return {
    heapLive: new Gauge({ name: 'access_index_heap_live_bytes', help: 'V8 heap in use right after the last full collection: what the process keeps alive', registers }),
    heapForcedCollections: new Counter({
      name: 'access_index_heap_forced_collections_total',
      help: "Full collections the memory budget forced because the heap in use had passed ACCESS_INDEX_MEMORY_MB between two of V8's own (decision 69)",
      registers,
    }),
    heapGrowingPercent: new Gauge({
      name: 'access_index_heap_growing_percent',
      help: "V8's heap growing percent set to keep the process within ACCESS_INDEX_MEMORY_MB (0: V8's own choice, far below the budget)",
      registers,
    }),
  };
}

/** The projector's account cache: what its memory budget drops, and what reading accounts back costs. */
function accountCacheMetrics(registers: Registry[]) {
  /** the caches of this process (a live projector, a rebuild's), read at each scrape */
  const caches = new Set<() => { all: number; held: number }>();
  return {
    /** Adds a cache whose sizes the cache gauge sums at each scrape; returns its removal. */
    watchAccountCache(sizes: () => { all: number; held: number }): () => void {
      caches.add(sizes);
      return () => caches.delete(sizes);
    },
    accountsEvicted: new Counter({ name: 'access_index_accounts_evicted_total', help: 'Accounts dropped from the projector cache to keep it within its memory budget', registers }),
    accountCacheBytes: new Gauge({
      name: 'access_index_account_cache_bytes',
      help: 'Estimated heap of the accounts in the projector\'s cache (`part="all"`) and of those a round still holds, which its budget cannot drop (`part="held"`)',
      labelNames: ['part'],
      registers,
      collect() {
        if (caches.size === 0) return;
        let all = 0;
        let held = 0;
        for (const sizes of caches) {
          const s = sizes();
          all += s.all;
          held += s.held;
        }
        this.set({ part: 'all' }, all);
        this.set({ part: 'held' }, held);
      },
    }),
    heavyRoundsHeld: new Counter({
      name: 'access_index_heavy_rounds_held_total',
      help: 'Heavy rounds that kept their account until written because the memory budget had no room for the next round beside them (decision 50)',
      registers,
    }),
    accountLoadSeconds: new Histogram({
      name: 'access_index_account_load_seconds',
      help: 'Reading an account from Redis into the projector cache, by whether the memory budget had dropped it (after="eviction") or it was not cached yet (after="none")',
      labelNames: ['after'],
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}

function projectorStalls(registers: Registry[]) {
  return new Counter({
    name: 'access_index_projector_stalls_total',
    help: 'Times the projector made no step for ACCESS_INDEX_STALL_SECONDS while events waited (decision 66), by what it did: restarted its Kafka consumer (restart_consumer), or only reported it (report); report_partition: partitions began to get nothing from the consumer for that long while Kafka held events past them (decision 67)',
    labelNames: ['action'],
    registers,
  });
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'access_index_' });
  const registers = [registry];
  return {
    registry,
    eventsApplied: new Counter({ name: 'access_index_events_applied_total', help: 'Events applied to the facts, by type', labelNames: ['type'], registers }),
    eventsSkipped: new Counter({ name: 'access_index_events_skipped_total', help: 'Events skipped: already applied (offset) or duplicate id', labelNames: ['reason'], registers }),
    deadLetters: new Counter({ name: 'access_index_dead_letters_total', help: 'Messages sent to the dead-letter topic, by reason code', labelNames: ['code'], registers }),
    tornMarks: new Counter({ name: 'access_index_torn_marks_total', help: 'Accounts a refresh marked as possibly part-written (decision 59)', registers }),
    documentsWritten: new Counter({ name: 'access_index_documents_written_total', help: 'User documents indexed or deleted in OpenSearch', labelNames: ['op'], registers }),
    batchSeconds: new Histogram({
      name: 'access_index_batch_seconds',
      help: 'Time to project one round from the lanes: one bounded turn per account with events (Redis commits, bulk write, offset commit)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    bulkSeconds: new Histogram({
      name: 'access_index_bulk_seconds',
      help: 'OpenSearch bulk request latency',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    groupedRounds: bulkRounds(registers),
    freshnessSeconds: new Histogram({
      name: 'access_index_freshness_seconds',
      help: 'From event time to searchable in OpenSearch',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    }),
    roundStageSeconds: roundStageSeconds(registers),
    laneEvents: new Gauge({ name: 'access_index_lane_events', help: "Events read from Kafka and waiting in the projector's account lanes", registers }),
    ...heapGauges(registers),
    ...accountCacheMetrics(registers),
    consumerLag: new Gauge({ name: 'access_index_consumer_lag', help: 'Messages behind the end of each partition', labelNames: ['topic', 'partition'], registers }),
    ready: new Gauge({ name: 'access_index_ready', help: '1 when the component can do its work, 0 while a dependency is down', labelNames: ['component'], registers }),
    redisPersistence: new Gauge({
      name: 'access_index_redis_persistence',
      help: 'What a Redis restart keeps, read at start: 1 on the mode in use (aof, rdb, none, unknown), 0 on the others',
      labelNames: ['mode'],
      registers,
    }),
    integrityFault: new Gauge({
      name: 'access_index_integrity_fault',
      help: '1 on the fault the stores are in now (redis_lost, redis_behind, index_lost, index_behind, topic_reset, history_gone, unverified, not_initialized), 0 on the others; all 0 when they agree',
      labelNames: ['fault'],
      registers,
    }),
    projectorStalls: projectorStalls(registers),
    integrityRepairs: new Counter({ name: 'access_index_integrity_repairs_total', help: 'Repairs started, by the fault they repair', labelNames: ['fault'], registers }),
    httpSeconds: new Histogram({
      name: 'access_index_http_request_seconds',
      help: 'API request latency by route and status',
      labelNames: ['route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
