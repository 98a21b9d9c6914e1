/**
 * Checks made once when a long-running command starts (`start`, `project`, `serve`): settings of
 * the stores that do not stop the service but put its guarantees at risk (a Redis without
 * persistence, topics whose retention deletes history). Each check logs a warning with what to
 * change; none of them throws (a check that cannot be made is logged at info and skipped).
 */
import { checkHistoryRetention } from './kafka/history-retention.ts';
import { checkRedisPersistence } from './redis/persistence-check.ts';
import type { Runtime } from './runtime.ts';

/** One check: logs what it finds through `runtime.logger`. */
export type StartupCheck = (runtime: Runtime) => Promise<void>;

const CHECKS: readonly StartupCheck[] = [checkRedisPersistence, checkHistoryRetention];

/** Runs every check; a check that fails to run is logged, never fatal. */
export async function runStartupChecks(runtime: Runtime, checks: readonly StartupCheck[] = CHECKS): Promise<void> {
  await Promise.all(checks.map((check) => check(runtime).catch((error: unknown) => runtime.logger.info({ err: error, check: check.name }, 'a start-up check could not run'))));
}
