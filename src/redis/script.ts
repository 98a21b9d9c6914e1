/**
 * Lua scripts sent by their SHA1 (decision 63). ioredis's `defineCommand` sends a script's body
 * with EVAL the first time a connection runs it (a reconnection is a new connection), and EVALSHA
 * after; a NOSCRIPT reply (scripts flushed, or evicted: Redis 7.4 evicts scripts loaded by EVAL)
 * makes it send the body again, on its own. In a pipeline that resend comes after the pipeline's
 * other commands ran: where the order of two steps matters, they are one script. A commit's script
 * is 1.6 KB: sent with every commit, it was a good part of what a small account's commit sent Redis.
 */
import type { ChainableCommander, Redis } from 'ioredis';

export interface LuaScript {
  /** the command's name on the client (unique per script) */
  name: string;
  lua: string;
  /** how many of its arguments are keys; none: the first argument says (a script whose keys vary) */
  keys?: number;
}

export type ScriptArg = string | number;

/** A script's command: its keys, then its arguments (arrays are flattened, so no spread of a large batch). */
type ScriptCommand<T> = (...args: (ScriptArg | readonly ScriptArg[])[]) => T;

/**
 * Defines the scripts on the client (once each). A pipeline has the commands its client had when
 * the pipeline was created: define before creating one.
 */
export function defineScripts(redis: Redis, scripts: readonly LuaScript[]): void {
  const defined = redis.scriptsSet as Record<string, unknown>;
  for (const s of scripts) if (!(s.name in defined)) redis.defineCommand(s.name, s.keys === undefined ? { lua: s.lua } : { lua: s.lua, numberOfKeys: s.keys });
}

/** Runs a script on the client. */
export function runScript(redis: Redis, script: LuaScript, args: (ScriptArg | readonly ScriptArg[])[]): Promise<unknown> {
  defineScripts(redis, [script]);
  return (redis as unknown as Record<string, ScriptCommand<Promise<unknown>>>)[script.name]!(...args);
}

/** Queues a script on a pipeline (or MULTI) of a client whose scripts were defined before it was created. */
export function queueScript(pipeline: ChainableCommander, script: LuaScript, args: (ScriptArg | readonly ScriptArg[])[]): ChainableCommander {
  const command = (pipeline as unknown as Record<string, ScriptCommand<ChainableCommander> | undefined>)[script.name];
  if (!command) throw new Error(`script ${script.name} was not defined on the client before the pipeline was created`);
  return command.apply(pipeline, args);
}
