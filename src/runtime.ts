/**
 * The composition root shared by the commands: config in, clients and the live generation out,
 * with one shutdown path. Each command adds its own parts (projector, API) on top.
 */
import { type Clients, createClients } from './clients.ts';
import { type Config, loadConfig } from './config.ts';
import { ensureGenerationLayout, type GenerationIndices, liveGeneration } from './generation.ts';
import { ensureTopics } from './kafka/client.ts';
import { type Logger, createLogger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createAccountStore, type AccountStore } from './redis/account-store.ts';
import type { KeySpace } from './redis/keys.ts';
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
  store: AccountStore;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  env?: NodeJS.ProcessEnv;
  /** create missing topics (the projector and `start` do; the API alone does not need them) */
  ensureTopics?: boolean;
  topicPartitions?: number;
  logger?: Logger;
}

/** Reads the config (throws ConfigError on bad values), connects, and makes sure the layout exists. */
export async function openRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const config = loadConfig(options.env ?? process.env);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = createMetrics();
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
    const generation = await retry(() => liveGeneration(clients.redis, config.namespace), { retries: 10, onRetry });
    const indices = await retry(() => ensureGenerationLayout(clients.opensearch, config.namespace, generation, { live: true }), { retries: 10, onRetry });
    const space = { namespace: config.namespace, generation };
    return { config, logger, metrics, clients, space, index: indices.users, indices, store: createAccountStore(clients.redis, space), close: () => clients.close() };
  } catch (error) {
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
