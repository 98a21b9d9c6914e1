/**
 * The projector of whatever generation is live. It watches `<namespace>:live`; when a rebuild swaps
 * generations it stops projecting into the old one and joins the new generation's group, which
 * continues from the offsets the rebuild committed.
 */
import { openGeneration, writeAliases } from '../generation.ts';
import { liveGenerationKey } from '../redis/keys.ts';
import type { Runtime } from '../runtime.ts';
import { createProjector, type Projector } from './projector.ts';

export function createLiveProjector(runtime: Runtime, options: { watchMs?: number } = {}) {
  const { clients, config, logger, metrics } = runtime;
  let current: { generation: string; projector: Projector } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let switching: Promise<void> = Promise.resolve();
  let stopped = false;

  async function run(generation: string): Promise<void> {
    const indices = await openGeneration(clients.redis, clients.opensearch, { namespace: config.namespace, generation });
    const projector = createProjector({ kafka: clients.kafka, redis: clients.redis, opensearch: clients.opensearch, config, space: { namespace: config.namespace, generation }, indices, writeTargets: writeAliases(indices), logger, metrics });
    await projector.start();
    current = { generation, projector };
  }

  async function follow(): Promise<void> {
    const live = await clients.redis.get(liveGenerationKey(config.namespace));
    if (stopped || !live || live === current?.generation) return;
    logger.info({ from: current?.generation, to: live }, 'live generation changed; switching the projector');
    await current?.projector.stop();
    current = undefined;
    await run(live);
  }

  return {
    status: () => current?.projector.status() ?? { state: 'starting' as const },
    generation: () => current?.generation,
    async start(): Promise<void> {
      await run(runtime.space.generation);
      const tick = () => {
        switching = switching
          .then(follow)
          .catch((error) => logger.warn({ err: error }, 'could not follow the live generation'))
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, options.watchMs ?? 2_000);
          });
      };
      timer = setTimeout(tick, options.watchMs ?? 2_000);
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await switching;
      await current?.projector.stop();
    },
  };
}

export type LiveProjector = ReturnType<typeof createLiveProjector>;
