/**
 * When a Docker engine answers, the integration tests run against throwaway containers instead of
 * local servers: the same versions as docker-compose.yml. Loaded only then (testcontainers is a
 * dev dependency and needs Docker).
 */
import { createServer } from 'node:net';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { KAFKA_VERSION, OPENSEARCH_VERSION } from '../../src/services/paths.ts';
import { probeKafka, waitUntilReady } from '../../src/services/readiness.ts';
import type { ServerAddresses } from '../helpers/servers.ts';

/** Running containers, their addresses, and how to remove them. */
export interface StartedContainers {
  addresses: ServerAddresses;
  stop(): Promise<void>;
}

/** Starts Kafka, OpenSearch and Redis containers and waits until each is usable. */
export async function startContainers(): Promise<StartedContainers> {
  // Kafka hands clients the advertised address: bind a known host port and advertise it.
  const kafkaPort = await freePort();
  const [kafka, opensearch, redis] = await Promise.all([
    new GenericContainer(`apache/kafka:${KAFKA_VERSION}`)
      .withExposedPorts({ container: 9092, host: kafkaPort })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${kafkaPort}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      })
      .withWaitStrategy(Wait.forListeningPorts())
      .start(),
    new GenericContainer(`opensearchproject/opensearch:${OPENSEARCH_VERSION}`)
      .withExposedPorts(9200)
      .withEnvironment({
        'discovery.type': 'single-node',
        DISABLE_SECURITY_PLUGIN: 'true',
        DISABLE_INSTALL_DEMO_CONFIG: 'true',
        OPENSEARCH_JAVA_OPTS: '-Xms512m -Xmx512m',
      })
      .withWaitStrategy(Wait.forHttp('/_cluster/health?wait_for_status=yellow', 9200).forStatusCode(200))
      .withStartupTimeout(180_000)
      .start(),
    new GenericContainer('redis:7').withExposedPorts(6379).withWaitStrategy(Wait.forListeningPorts()).start(),
  ]);
  const host = (container: StartedTestContainer): string => container.getHost().replace(/^localhost$/, '127.0.0.1');
  const addresses: ServerAddresses = {
    kafkaBrokers: [`127.0.0.1:${kafkaPort}`],
    opensearchUrl: `http://${host(opensearch)}:${opensearch.getMappedPort(9200)}`,
    redisUrl: `redis://${host(redis)}:${redis.getMappedPort(6379)}`,
  };
  await waitUntilReady(() => probeKafka(addresses.kafkaBrokers), { what: 'Kafka container', timeoutMs: 120_000 });
  return {
    addresses,
    async stop() {
      await Promise.all([kafka.stop(), opensearch.stop(), redis.stop()]);
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
