/**
 * The composition root shared by the commands: config in, clients and the live generation out,
 * with one shutdown path. Each command adds its own parts (projector, API) on top.
 */
import { type Clients, createClients } from './clients.ts';
import { type Config, loadConfig } from './config.ts';
import { type GenerationIndices, generationIndices, openLiveGeneration } from './generation.ts';
import { ensureUsersFields } from './opensearch/indices.ts';
import { IntegrityFault } from './integrity/fault.ts';
import { ensureTopics } from './kafka/client.ts';
import { type Logger, createLogger } from './logger.ts';
import { holdMemoryBudget, type MemoryHold } from './memory-budget.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createAccountStore } from './redis/account-store.ts';
import type { AccountStatePort } from './ports/account-state.ts';
import { type KeySpace, liveGenerationKey } from './redis/keys.ts';
import { retry } from './retry.ts';

export interface Runtime {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  clients: Clients;
  space: KeySpace;
  /** the live generation's users index */
  index: string;
  /** the live generation's indices (users and history) */
  indices: GenerationIndices;
  store: AccountStatePort;
  /**
   * Bytes left under ACCESS_INDEX_MEMORY_MB after the last full collection (src/memory-budget.ts);
   * Infinity in a process not held within it (tests, benches).
   */
  memoryRoom: () => number;
  /**
   * Set when the live generation could not be opened because the stores disagree (only with
   * `allowFault`): the long-running commands start anyway, refuse to serve and repair.
   */
  fault?: IntegrityFault;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  env?: NodeJS.ProcessEnv;
  /** create missing topics (the projector and `start` do; the API alone does not need them) */
  ensureTopics?: boolean;
  topicPartitions?: number;
  logger?: Logger;
  /**
   * Start even when the live generation cannot be opened (an IntegrityFault: Redis lost the
   * namespace, an index is gone): `start`, `project` and `serve` then refuse reads and repair.
   * Without it such a fault stops the command with its message.
   */
  allowFault?: boolean;
  /**
   * Hold the process within ACCESS_INDEX_MEMORY_MB (src/memory-budget.ts): the long-running
   * commands do; a process that shares its heap with others (tests, benches) does not.
   */
  memoryBudget?: boolean;
}

/** The process's memory budget, its warnings in the log and its readings in the metrics. */
function holdMemory(config: Config, logger: Logger, metrics: Metrics): MemoryHold {
  return holdMemoryBudget(config.memoryBudgetBytes, {
    warn: (message, fields) => logger.warn(fields, message),
    observe: (reading, decision) => {
      metrics.heapLive.set(reading.live);
      metrics.heapGrowingPercent.set(decision.percent);
    },
    forced: () => metrics.heapForcedCollections.inc(),
  });
}

/** Reads the config (throws ConfigError on bad values), connects, and makes sure the layout exists. */
export async function openRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const config = loadConfig(options.env ?? process.env);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const memory: MemoryHold = options.memoryBudget ? holdMemory(config, logger, metrics) : { room: () => Infinity, release: () => undefined };
  const clients = createClients(config, logger);
  try {
    const onRetry = (error: unknown, attempt: number) => logger.warn({ err: error, attempt }, 'servers not reachable yet; retrying');
    if (options.ensureTopics) {
      await retry(
        async () => {
          const admin = clients.kafka.admin();
          await admin.connect();
          try {
            await ensureTopics(admin, config.topics, options.topicPartitions ?? 4);
          } finally {
            await admin.disconnect();
          }
        },
        { retries: 10, onRetry },
      );
    }
    // An IntegrityFault is not retriable (isRetriable): waiting does not bring the state back.
    const opened = await retry(() => openLiveGeneration(clients.redis, clients.opensearch, config.namespace, clients.kafka), { retries: 10, onRetry }).catch(
      async (error: unknown) => {
        if (!(error instanceof IntegrityFault) || !options.allowFault) throw error;
        logger.error({ fault: error.code, reason: error.message }, 'the stores disagree; reads are refused until the state is repaired');
        const pointer = await clients.redis.get(liveGenerationKey(config.namespace));
        return { generation: pointer ?? 'none', indices: generationIndices(config.namespace, pointer ?? 'none'), fault: error };
      },
    );
    // A generation made before the target filters gets their fields (its documents get values when rewritten; a rebuild fills all).
    if (!('fault' in opened)) await retry(() => ensureUsersFields(clients.opensearch, opened.indices.users), { retries: 10, onRetry });
    const space = { namespace: config.namespace, generation: opened.generation };
    const runtime: Runtime = {
      config,
      logger,
      metrics,
      clients,
      space,
      index: opened.indices.users,
      indices: opened.indices,
      store: createAccountStore(clients.redis, space),
      memoryRoom: memory.room,
      close: () => {
        memory.release();
        return clients.close();
      },
    };
    if ('fault' in opened) runtime.fault = opened.fault;
    return runtime;
  } catch (error) {
    memory.release();
    await clients.close();
    throw error;
  }
}

/**
 * Runs `main` and exits cleanly on SIGTERM/SIGINT: `stop` is called once, then the process exits.
 * A second signal exits at once.
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop()
      .then(() => process.exit(0))
      .catch((error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
