/** The live generation's fact intervals as the API reads them: Redis and the facts index (decision 47). */
import type { Client } from '@opensearch-project/opensearch';
import type { Redis } from 'ioredis';
import type { IntervalSources } from '../audit/facts-at.ts';
import { readAccountHead, readAccountIntervals, readSubjectIntervals } from '../redis/open-intervals.ts';
import type { LiveGeneration } from './live-generation.ts';

export function intervalSources(stores: { redis: Redis; opensearch: Client }, live: LiveGeneration): IntervalSources {
  return {
    opensearch: stores.opensearch,
    index: live.facts,
    account: (accountId) => readAccountIntervals(stores.redis, live.space, accountId),
    head: (accountId) => readAccountHead(stores.redis, live.space, accountId),
    subjects: (accountId, subjects) => readSubjectIntervals(stores.redis, live.space, accountId, subjects),
  };
}
