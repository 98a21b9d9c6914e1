/**
 * Global setup of the `integration` project: makes sure Kafka, OpenSearch and Redis answer, says
 * which ones it found or started (with versions), and hands their addresses to the tests
 * (inject('services'), and KAFKA_BROKERS / OPENSEARCH_URL / REDIS_URL in the environment).
 *
 * - Servers named by KAFKA_BROKERS / OPENSEARCH_URL / REDIS_URL are used as they are.
 * - Else, when a Docker engine answers (or ACCESS_INDEX_SERVICES=docker): testcontainers,
 *   removed after the run.
 * - Else (ACCESS_INDEX_SERVICES=local forces this): the same code as `access-index services up`.
 *   Servers it starts are LEFT RUNNING after the run, so the next run starts in a second; stop them
 *   with `npx access-index services down`. Servers it found are never stopped.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { KAFKA_VERSION } from '../../src/services/paths.ts';
import { ServiceError } from '../../src/services/service-error.ts';
import { createServices, type ServerState } from '../../src/services/services.ts';
import { probeKafka, probeOpenSearch, probeRedis } from '../../src/services/readiness.ts';
import type { ServerAddresses } from '../helpers/servers.ts';

const say = (line: string): void => {
  process.stderr.write(`[integration] ${line}\n`);
};

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const started = Date.now();
  let addresses: ServerAddresses;
  let teardown: (() => Promise<void>) | undefined;

  if (await useDocker()) {
    say('Docker answers: starting Kafka, OpenSearch and Redis containers (testcontainers)...');
    const { startContainers } = await import('./containers.ts');
    const containers = await startContainers();
    addresses = containers.addresses;
    teardown = containers.stop;
    await describeContainers(addresses);
  } else {
    say('Finding or starting local Kafka, OpenSearch and Redis (access-index services up)...');
    let states: ServerState[];
    try {
      states = await createServices({ print: say }).up();
    } catch (error) {
      if (error instanceof ServiceError) throw new Error(`Integration servers are not available:\n${error.message}`);
      throw error;
    }
    for (const state of states) say(describe(state));
    addresses = addressesOf(states);
    if (states.some((state) => state.origin === 'started')) {
      say('Servers started by `services up` stay running after the tests (stop: npx access-index services down).');
    }
  }
  say(`Servers ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`);

  process.env.KAFKA_BROKERS = addresses.kafkaBrokers.join(',');
  process.env.OPENSEARCH_URL = addresses.opensearchUrl;
  process.env.REDIS_URL = addresses.redisUrl;
  project.provide('services', addresses);
  return teardown;
}

async function useDocker(): Promise<boolean> {
  const choice = process.env.ACCESS_INDEX_SERVICES;
  if (choice === 'local') return false;
  if (choice === 'docker') return true;
  if (process.env.KAFKA_BROKERS || process.env.OPENSEARCH_URL || process.env.REDIS_URL) return false;
  try {
    await promisify(execFile)('docker', ['info'], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

const ORIGIN = { started: 'started', found: 'found running', environment: 'given by the environment', container: 'container' };

function describe(state: ServerState): string {
  const version = state.version ? ` ${state.version}` : ' (version not reported)';
  const pid = state.pid ? `, pid ${state.pid}` : '';
  return `${state.label}${version} at ${state.address}: ${state.origin ? ORIGIN[state.origin] : 'up'}${pid}; ${state.detail ?? ''}`;
}

function addressesOf(states: ServerState[]): ServerAddresses {
  const address = (id: ServerState['id']): string => states.find((state) => state.id === id)?.address ?? '';
  return {
    kafkaBrokers: address('kafka')
      .split(',')
      .map((broker) => broker.trim()),
    opensearchUrl: address('opensearch').replace(/\/+$/, ''),
    redisUrl: address('redis'),
  };
}

async function describeContainers(addresses: ServerAddresses): Promise<void> {
  const [kafka, opensearch, redis] = await Promise.all([probeKafka(addresses.kafkaBrokers), probeOpenSearch(addresses.opensearchUrl), probeRedis(addresses.redisUrl)]);
  say(`Kafka ${KAFKA_VERSION} at ${addresses.kafkaBrokers.join(',')}: container; ${kafka.ok ? kafka.detail : kafka.reason}`);
  say(`OpenSearch ${opensearch.ok ? opensearch.version : '?'} at ${addresses.opensearchUrl}: container`);
  say(`Redis ${redis.ok ? redis.version : '?'} at ${addresses.redisUrl}: container`);
}
