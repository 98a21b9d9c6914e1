/**
 * The churn producer in its own process (see startProducerProcess in live-pipeline.ts), so that
 * generating, serializing and sending events at a steady rate does not share the event loop of
 * the projector being measured. It rebuilds the same history (same scale, seed and factor), skips
 * what was already published, then publishes churn at `rate` until told to stop or `durationMs`
 * ends. Sampled events are reported as they are acknowledged; the result when it stops.
 */
import { createKafka } from '../../src/kafka/client.ts';
import { silentLogger } from '../../src/logger.ts';
import { type ProducerJob, type ProducerMessage, splitHistory, startSteadyProducer, take } from './live-pipeline.ts';

const send = (message: ProducerMessage) => process.send!(message);

async function run(job: ProducerJob): Promise<void> {
  const history = splitHistory(job.scale, job.seed, job.factor);
  for (const _ of history.dataset);
  for (const _ of take(history.churn, job.skip));
  const drawn = { n: 0 };
  const churn = counting(history.churn, drawn);
  const kafka = createKafka({ kafkaBrokers: job.brokers }, silentLogger(), 'bench-churn-producer');
  // performance.now() differs between processes: samples carry the wall clock of their send.
  const offset = Date.now() - performance.now();
  const producer = await startSteadyProducer({
    kafka,
    topics: job.topics,
    events: job.accounts ? only(churn, new Set(job.accounts)) : churn,
    rate: job.rate,
    ...(job.sampleEveryMs ? { sampleEveryMs: job.sampleEveryMs } : {}),
    onSample: (s) => send({ kind: 'sample', sample: { ...s, offset: s.offset.toString(), sentAtEpochMs: s.sentAt + offset } }),
  });
  send({ kind: 'started' });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, job.durationMs);
    process.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  send({ kind: 'done', result: { ...(await producer.stop()), drawn: drawn.n } });
}

/** The events as they are taken, counted (the filter below passes over some: the count says where the stream was left). */
function* counting<T>(events: Iterator<T>, drawn: { n: number }): Generator<T> {
  for (let next = events.next(); !next.done; next = events.next()) {
    drawn.n += 1;
    yield next.value;
  }
}

/** The events of some accounts only (the generator keys every event by its account). */
function* only<T extends { key: string }>(events: Iterator<T>, accounts: ReadonlySet<string>): Generator<T> {
  for (let next = events.next(); !next.done; next = events.next()) if (accounts.has(next.value.key)) yield next.value;
}

process.once('message', (job: ProducerJob) => {
  run(job).then(
    () => process.disconnect(),
    (error) => {
      send({ kind: 'error', error: (error as Error).stack ?? String(error) });
      process.disconnect();
    },
  );
});
