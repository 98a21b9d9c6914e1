/**
 * Crashes at chosen steps, for the ports' in-memory twins: every call of a wrapped port's methods
 * counts as one step, and a step chosen to fail throws, either before the call (the store never saw
 * it) or after it (the store did it, but the caller never heard: a reply lost with the connection).
 */
import { AppError } from '../../src/errors.ts';

export type CrashMode = 'before' | 'after';

export interface CrashPlan {
  /** step number (1-based, across every wrapped port) -> how it fails */
  at: Map<number, CrashMode>;
  steps: number;
  /** the steps that failed, as `method:mode` */
  crashed: string[];
}

export const crashPlan = (at: Iterable<readonly [number, CrashMode]> = []): CrashPlan => ({ at: new Map(at), steps: 0, crashed: [] });

/** The port with each of `methods` counting as a step of the plan. */
export function withCrashes<T extends object>(port: T, plan: CrashPlan, methods: readonly (keyof T & string)[]): T {
  const wrapped = { ...port };
  for (const name of methods) {
    const original = port[name] as (...args: unknown[]) => Promise<unknown>;
    (wrapped as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      plan.steps += 1;
      const mode = plan.at.get(plan.steps);
      const crash = () => {
        plan.crashed.push(`${name}:${mode}`);
        return new AppError('redis_unavailable', `crash at step ${plan.steps} (${name}, ${mode})`, { retriable: true });
      };
      if (mode === 'before') throw crash();
      const result = await original.apply(port, args);
      if (mode === 'after') throw crash();
      return result;
    };
  }
  return wrapped;
}
