/**
 * Where the local development servers live: versions, ports, the download cache and the run state.
 * Everything is outside the repository, under ACCESS_INDEX_CACHE (default ~/.cache/access-index).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Kafka release fetched from Maven Central (org.apache.kafka:kafka_2.13); same as docker-compose.yml. */
export const KAFKA_VERSION = '3.9.1';
/** OpenSearch release fetched from Maven Central (integ-test-zip); same as docker-compose.yml. */
export const OPENSEARCH_VERSION = '2.19.3';

/** Fixed local ports, all bound to 127.0.0.1. */
export const PORTS = { kafka: 9092, kafkaController: 9093, opensearch: 9200, redis: 6379 } as const;

/** The unprivileged user that runs OpenSearch when `services up` runs as root (OpenSearch refuses root). */
export const SERVICE_USER = 'access-index';
/**
 * Home of SERVICE_USER. As root with the default cache (under /root, which others cannot read),
 * OpenSearch's install, data and logs live here instead of in the cache.
 */
export const SERVICE_USER_HOME = '/var/lib/access-index';

/** Every folder the local servers use. */
export interface ServicePaths {
  /** ACCESS_INDEX_CACHE or ~/.cache/access-index */
  cache: string;
  /** pid files of what `services up` started */
  run: string;
  /** the templates in the repository (POMs, config files) */
  templates: string;
  kafka: { root: string; libs: string; config: string; data: string; logs: string };
  opensearch: { downloads: string; root: string; home: string; data: string; logs: string; snapshots: string };
  /** `data`: Redis's working directory, where its append-only file lives (`appendonlydir/`) */
  redis: { root: string; data: string; logs: string };
}

/** Resolves the folders from the environment; creates nothing. */
export function resolveServicePaths(env: NodeJS.ProcessEnv = process.env): ServicePaths {
  const cache = env.ACCESS_INDEX_CACHE || join(homedir(), '.cache', 'access-index');
  const kafkaRoot = join(cache, `kafka-${KAFKA_VERSION}`);
  const isRoot = process.getuid?.() === 0;
  const osRoot = isRoot && !env.ACCESS_INDEX_CACHE ? join(SERVICE_USER_HOME, `opensearch-${OPENSEARCH_VERSION}`) : join(cache, `opensearch-${OPENSEARCH_VERSION}`);
  return {
    cache,
    run: join(cache, 'run'),
    templates: fileURLToPath(new URL('../../scripts/services/', import.meta.url)),
    kafka: {
      root: kafkaRoot,
      libs: join(kafkaRoot, 'libs'),
      config: join(kafkaRoot, 'config'),
      data: join(kafkaRoot, 'data'),
      logs: join(kafkaRoot, 'logs'),
    },
    opensearch: {
      downloads: join(cache, 'downloads', `opensearch-${OPENSEARCH_VERSION}`),
      root: osRoot,
      home: join(osRoot, `opensearch-${OPENSEARCH_VERSION}`),
      data: join(osRoot, 'data'),
      logs: join(osRoot, 'logs'),
      /** path.repo: where `fs` snapshot repositories may live (the store-fault tests restore from one) */
      snapshots: join(osRoot, 'snapshots'),
    },
    redis: { root: join(cache, 'redis'), data: join(cache, 'redis', 'data'), logs: join(cache, 'redis') },
  };
}
