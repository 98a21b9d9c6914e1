/**
 * The position publisher against a users index restored from an older snapshot, on real OpenSearch
 * and Redis: an account's own searchable position runs ahead of its partition's (decision 34), so
 * the partition checkpoints alone cannot see that a restore took its writes away; the sealed
 * refresh number does (decision 35). Deterministic, unlike the store-faults scenario, which found
 * the hole only now and then.
 */
import type { Client } from '@opensearch-project/opensearch';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFRESH_FIELD, indexBehind, publishedGuard, readCheckpoints } from '../../src/integrity/checkpoints.ts';
import { IntegrityFault } from '../../src/integrity/fault.ts';
import { silentLogger } from '../../src/logger.ts';
import { createPositionPublisher } from '../../src/projector/positions.ts';
import { createAccountStore } from '../../src/redis/account-store.ts';
import { readAccountPositions, readPublished } from '../../src/redis/positions-reader.ts';
import { type TestNamespace, createTestNamespace } from '../helpers/namespace.ts';
import { createTestOpenSearch, createTestRedis, snapshotRepositoryPath } from '../helpers/servers.ts';

let ns: TestNamespace;
let redis: Redis;
let opensearch: Client;
let repoPath: string | undefined;

beforeAll(async () => {
  ns = createTestNamespace();
  redis = createTestRedis();
  opensearch = createTestOpenSearch();
  repoPath = await snapshotRepositoryPath(opensearch);
});
afterAll(async () => {
  await redis.quit();
  await opensearch.close();
  await ns.cleanup();
});

describe('an index restored to before an account position that ran ahead of its partition', () => {
  it('is refused by the read check and by the publisher, which writes no checkpoint over it', async () => {
    if (!repoPath) {
      console.warn('OpenSearch has no path.repo: the snapshot scenario is not run on this server');
      return;
    }
    const index = ns.index('users-g1');
    const space = { namespace: ns.prefix, generation: 'g1' };
    const store = createAccountStore(redis, space);
    const publisher = createPositionPublisher({
      opensearch,
      index: () => index,
      store,
      intervalMs: 50,
      logger: silentLogger(),
      checkpoints: { indices: () => [index], requireAlias: false },
    });
    await opensearch.indices.create({ index });
    const guard = async () => {
      const { positions, sealed } = await readPublished(redis, space);
      return publishedGuard(positions, sealed);
    };
    const write = async (id: string) => {
      await opensearch.index({ index, id, body: { account_id: 'small', user_id: id } });
    };

    // The partition is held at 5 by an unfinished neighbour; the small account's own position is 9.
    await write('u1');
    publisher.mark('t:0', 5n, 0);
    publisher.markAccounts(new Map([['small', new Map([['t:0', 9n]])]]));
    await publisher.flush();

    const repository = `${ns.prefix}-repo`;
    await opensearch.snapshot.createRepository({ repository, body: { type: 'fs', settings: { location: `${repoPath}/${ns.prefix}` } } });
    try {
      await opensearch.snapshot.create({ repository, snapshot: 'before', wait_for_completion: true, body: { indices: index, include_global_state: false } });

      // Only the small account moves on: its write at offset 12, published; the partition stays at 5.
      await write('u2');
      publisher.markAccounts(new Map([['small', new Map([['t:0', 12n]])]]));
      await publisher.flush();
      expect(await readAccountPositions(redis, space, 'small', 'search')).toEqual(new Map([['t:0', 12n]]));
      expect(await indexBehind(opensearch, index, await guard())).toBeUndefined();

      await opensearch.indices.close({ index });
      await opensearch.snapshot.restore({ repository, snapshot: 'before', wait_for_completion: true, body: { indices: index, include_global_state: false } });
      const { body: found } = await opensearch.exists({ index, id: 'u2' });
      expect(found).toBe(false);

      // A search of the small account names offset 12, which the restored index lost: refused.
      expect(await indexBehind(opensearch, index, await guard())).toMatch(/holds the checkpoints of refresh 1 only, but refresh 2 was published/);

      // The publisher refuses to write fresh checkpoints over the hole.
      await write('u3');
      publisher.markAccounts(new Map([['small', new Map([['t:0', 15n]])]]));
      await expect(publisher.flush()).rejects.toBeInstanceOf(IntegrityFault);
      expect((await readCheckpoints(opensearch, index, [REFRESH_FIELD, 't:0'])).get(REFRESH_FIELD)).toBe(1n);
      expect(await readAccountPositions(redis, space, 'small', 'search')).toEqual(new Map([['t:0', 12n]]));
    } finally {
      await opensearch.snapshot.delete({ repository, snapshot: 'before' }).catch(() => undefined);
      await opensearch.snapshot.deleteRepository({ repository }).catch(() => undefined);
    }
  }, 60_000);
});
