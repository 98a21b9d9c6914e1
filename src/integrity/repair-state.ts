/**
 * The repair marker `<namespace>:repair` (a Redis hash): what is wrong and what is being done about
 * it, with progress. The projector that repairs writes it; every API process reads it and names it
 * in the 503s it answers meanwhile. A marker whose heartbeat is old belongs to a repair that died:
 * the next check finds the fault again and starts over.
 */
import type { Redis } from 'ioredis';
import { repairKey } from '../redis/keys.ts';
import type { FaultCode } from './fault.ts';

export interface RepairMarker {
  code: FaultCode;
  reason: string;
  /**
   * `cleaning` / `rebuilding`: reads refused; `replaying`: the state is consistent again, the lost
   * events are being applied; `failed`: the repair could not be done (the reason says why)
   */
  phase: 'cleaning' | 'replaying' | 'rebuilding' | 'failed';
  /** the generation repaired (rollback), or the one being built (rebuild) */
  generation: string;
  started_at: string;
  heartbeat_at: string;
  done: number;
  total: number;
  /** rollback: per partition, the offset the lost stretch had reached */
  target?: Record<string, string>;
  /** rollback: the new epoch and each account's version in the state Redis went back to */
  plan?: { epoch: number; versions: Record<string, number> };
}

/** The marker, or null when no repair is under way. */
export async function readRepair(redis: Redis, namespace: string): Promise<RepairMarker | null> {
  const raw = await redis.hgetall(repairKey(namespace));
  if (!raw.code) return null;
  return {
    code: raw.code as FaultCode,
    reason: raw.reason ?? '',
    phase: (raw.phase ?? 'cleaning') as RepairMarker['phase'],
    generation: raw.generation ?? '',
    started_at: raw.started_at ?? '',
    heartbeat_at: raw.heartbeat_at ?? '',
    done: Number(raw.done ?? 0),
    total: Number(raw.total ?? 0),
    ...(raw.target ? { target: JSON.parse(raw.target) as Record<string, string> } : {}),
    ...(raw.plan ? { plan: JSON.parse(raw.plan) as RepairMarker['plan'] & object } : {}),
  };
}

/** Sets fields of the marker (strings, as Redis keeps them). */
export async function writeRepair(redis: Redis, namespace: string, fields: Record<string, string>): Promise<void> {
  await redis.hset(repairKey(namespace), fields);
}

export async function clearRepair(redis: Redis, namespace: string): Promise<void> {
  await redis.del(repairKey(namespace));
}

/** How a marker reads in a 503: what is wrong, what is done, how far. */
export function describeRepair(marker: RepairMarker): string {
  const progress = marker.total > 0 ? ` (${marker.done} of ${marker.total}, ${Math.floor((100 * marker.done) / marker.total)} %)` : '';
  if (marker.phase === 'failed') return marker.reason;
  const what =
    marker.phase === 'rebuilding'
      ? `rebuilding generation ${marker.generation} from Kafka`
      : marker.phase === 'cleaning'
        ? `rewriting OpenSearch from Redis's state before replaying the lost events`
        : 'replaying the events Redis lost';
  return `${marker.reason}; repair under way since ${marker.started_at}: ${what}${progress}`;
}

/** A repair whose heartbeat is older than this died with its process. */
export const REPAIR_STALE_MS = 30_000;
