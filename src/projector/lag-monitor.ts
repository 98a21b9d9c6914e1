/**
 * Consumer lag, as a user of the report feels it: per partition, how many messages are in Kafka
 * but not yet searchable (end offset minus the published position). Sampled on a timer.
 */
import type { Kafka } from 'kafkajs';
import type { Logger } from '../logger.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Metrics } from '../metrics.ts';
import type { AccountStatePort } from '../ports/account-state.ts';

export function createLagMonitor(options: {
  kafka: Kafka;
  topics: readonly string[];
  store: AccountStatePort;
  metrics?: Metrics | undefined;
  logger: Logger;
  intervalMs?: number;
  /** told each sample's lag per `topic:partition`, and each partition's high watermark (the projector's progress watch) */
  onSample?: (lag: ReadonlyMap<string, number>, highs: ReadonlyMap<string, bigint>) => void;
}) {
  const { kafka, topics, store, metrics, logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  /** the sample under way (stop waits for it before it disconnects the admin client) */
  let inFlight: Promise<void> = Promise.resolve();
  let admin: ReturnType<Kafka['admin']> | undefined;

  async function sample(): Promise<{ lag: Map<string, number>; highs: Map<string, bigint> }> {
    if (!admin) {
      admin = kafka.admin();
      await admin.connect();
    }
    const positions = await store.positions();
    const lag = new Map<string, number>();
    const highs = new Map<string, bigint>();
    for (const topic of topics)
      for (const { partition, high } of await admin.fetchTopicOffsets(topic)) {
        const field = `${topic}:${partition}`;
        highs.set(field, BigInt(high));
        const behind = Math.max(0, Number(BigInt(high) - 1n - (positions.get(field) ?? -1n)));
        lag.set(field, behind);
        metrics?.consumerLag.set({ topic, partition: String(partition) }, behind);
      }
    return { lag, highs };
  }

  return {
    sample,
    start(): void {
      const tick = () => {
        inFlight = sample()
          .then(({ lag, highs }) => options.onSample?.(lag, highs))
          .catch((error) => logger.debug({ err: error }, 'lag sample failed'))
          .finally(() => {
            if (stopped) return;
            timer = setTimeout(tick, options.intervalMs ?? 5_000);
            timer.unref();
          });
      };
      tick();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      // A sample that hangs (a Redis that no longer answers) does not hold the stop.
      await Promise.race([inFlight, sleep(5_000, undefined, { ref: false })]);
      await admin?.disconnect().catch(() => undefined);
    },
  };
}
