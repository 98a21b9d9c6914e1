/**
 * The projector of whatever generation is live, and its supervisor. It watches `<namespace>:live`;
 * when a rebuild swaps generations it stops projecting into the old one and joins the new
 * generation's group, which continues from where the rebuild got. When the stores disagree
 * (the projector's own checks, or the integrity monitor) it stops projecting and repairs what can
 * be repaired exactly (docs/reliability.md): a lost Redis state or a lost index by a rebuild into
 * a new generation; a Redis that went back in time by joining again (the assignment's check
 * brings OpenSearch back to Redis's state and replays from there). A topic that lost the history
 * the state needs, or that was recreated, stops it with the reason: no repair is exact then.
 */
import { openGeneration, writeAliases } from '../generation.ts';
import { type FaultCode, IntegrityFault } from '../integrity/fault.ts';
import type { IntegrityMonitor, Verdict } from '../integrity/monitor.ts';
import { writeRepair } from '../integrity/repair-state.ts';
import { runRebuild } from '../rebuild/rebuild.ts';
import { liveGenerationKey } from '../redis/keys.ts';
import type { Runtime } from '../runtime.ts';
import { createProjector, type Projector } from './projector.ts';

/** The faults repaired by a rebuild into a new generation (a rollback of Redis has its own repair). */
const REBUILT: ReadonlySet<FaultCode> = new Set(['redis_lost', 'index_lost', 'index_behind', 'index_outdated']);

export interface LiveProjectorOptions {
  watchMs?: number;
  /** the integrity monitor whose verdicts start repairs (`start` and `project` pass theirs) */
  monitor?: IntegrityMonitor;
}

// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createLiveProjector(runtime: Runtime, options: LiveProjectorOptions = {}) {
  const { clients, config, logger, metrics } = runtime;
  let current: { generation: string; projector: Projector } | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** one change at a time: follow the pointer, restart, repair */
  let switching: Promise<void> = Promise.resolve();
  let stopped = false;
  let fault: IntegrityFault | undefined;
  let repairing: string | undefined;

  const enqueue = (what: string, step: () => Promise<void>) => {
    switching = switching.then(step).catch((error: unknown) => logger.warn({ err: error, step: what }, 'live projector step failed'));
    return switching;
  };

  async function run(generation: string): Promise<void> {
    const indices = await openGeneration(clients.redis, clients.opensearch, { namespace: config.namespace, generation });
    const projector = createProjector({
      kafka: clients.kafka,
      redis: clients.redis,
      opensearch: clients.opensearch,
      config,
      space: { namespace: config.namespace, generation },
      indices,
      writeTargets: writeAliases(indices),
      logger,
      metrics,
      onFault: (f) => void enqueue('fault', () => handle(f)),
      memoryRoom: runtime.memoryRoom,
    });
    await projector.start();
    current = { generation, projector };
    fault = undefined;
  }

  async function stopCurrent(): Promise<void> {
    await current?.projector.stop();
    current = undefined;
  }

  /** Acts on a fault: repair by rebuild, join again, or stop with the reason. */
  async function handle(f: IntegrityFault): Promise<void> {
    if (stopped) return;
    // Faults are reported by several checks at once: act only on one that still holds.
    if (options.monitor && f.code !== 'topic_reset' && f.code !== 'history_gone') {
      const now = await options.monitor.check();
      if (now.ok || (now.repair && now.repair.phase !== 'failed') || now.fault !== f.code) return;
    }
    fault = f;
    metrics.integrityRepairs.inc({ fault: f.code });
    if (REBUILT.has(f.code)) {
      await stopCurrent();
      repairing = f.code;
      logger.error({ fault: f.code, reason: f.message }, 'rebuilding the namespace from Kafka into a new generation; reports answer 503 meanwhile');
      try {
        let lastProgress = 0;
        const result = await runRebuild(runtime, {
          repair: { code: f.code, reason: f.message },
          log: (line) => logger.info({ repair: f.code }, line),
          onProgress: ({ done, total }) => {
            if (Date.now() - lastProgress < 5_000 && done < total) return;
            lastProgress = Date.now();
            logger.info({ repair: f.code, done, total }, `repair: ${done} of ${total} events rebuilt`);
          },
        });
        logger.info({ generation: result.generation, events: result.events, seconds: result.seconds }, 'repair done: the rebuilt generation is live');
        fault = undefined;
      } catch (error) {
        const message = (error as Error).message;
        logger.error({ err: error, fault: f.code }, 'the repair failed; reports stay refused');
        await writeRepair(clients.redis, config.namespace, {
          code: f.code,
          reason: `${f.message}; the repair failed: ${message}`,
          phase: 'failed',
          heartbeat_at: new Date().toISOString(),
        }).catch(() => undefined);
        fault = new IntegrityFault(f.code, `${f.message}; the repair failed: ${message}`);
      } finally {
        repairing = undefined;
      }
      await follow();
    } else if (f.code === 'redis_behind') {
      // Joining again makes the assignment's check compare the group's offsets with Redis's and
      // repair (the projector in hand may never see a gap if no new event comes).
      const generation = current?.generation ?? (await clients.redis.get(liveGenerationKey(config.namespace)));
      await stopCurrent();
      if (generation) await run(generation);
    } else {
      await stopCurrent();
      logger.error({ fault: f.code, reason: f.message }, 'the projector stopped: no exact repair is possible; see docs/reliability.md');
    }
  }

  /**
   * Level-triggered: a verdict that calls for a rebuild and has none under way starts one, even if
   * the moment it first appeared was missed (a check that saw Redis reconnect meanwhile).
   */
  async function repairIfNeeded(): Promise<void> {
    const v = options.monitor?.verdict();
    if (!v || v.ok || repairing || stopped || (v.repair && v.repair.phase !== 'failed')) return;
    if (v.fault && REBUILT.has(v.fault)) {
      if (fault?.code === v.fault && !current) return; // already tried and failed: the marker says why
      await handle(new IntegrityFault(v.fault, v.reason ?? v.fault));
    }
  }

  /** Joins the live generation when the pointer names another one than the projector's. */
  async function follow(): Promise<void> {
    await repairIfNeeded();
    const live = await clients.redis.get(liveGenerationKey(config.namespace));
    if (stopped || !live || live === current?.generation || repairing) return;
    if (fault && !REBUILT.has(fault.code)) return;
    logger.info({ from: current?.generation, to: live }, 'live generation changed; switching the projector');
    await stopCurrent();
    await run(live);
  }

  function onVerdict(v: Verdict): void {
    if (v.ok || repairing || v.repair) return;
    if (v.fault && (REBUILT.has(v.fault) || v.fault === 'redis_behind')) void enqueue('verdict', () => handle(new IntegrityFault(v.fault as 'redis_lost', v.reason ?? v.fault!)));
  }

  return {
    status: () => {
      if (repairing) return { state: 'repairing' as const, fault: { code: fault?.code, reason: fault?.message } };
      if (fault && !current) return { state: 'faulted' as const, fault: { code: fault.code, reason: fault.message } };
      return current?.projector.status() ?? { state: 'starting' as const };
    },
    generation: () => current?.generation,
    async start(): Promise<void> {
      if (runtime.fault) void enqueue('start', () => handle(runtime.fault!));
      else await run(runtime.space.generation);
      options.monitor?.onChange(onVerdict);
      const tick = () => {
        void enqueue('follow', follow).finally(() => {
          if (!stopped) timer = setTimeout(tick, options.watchMs ?? 2_000);
        });
      };
      timer = setTimeout(tick, options.watchMs ?? 2_000);
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await switching;
      await stopCurrent();
    },
  };
}

export type LiveProjector = ReturnType<typeof createLiveProjector>;
