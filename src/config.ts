/**
 * Loading the config from the environment, once, at start: fail fast with one line per bad variable,
 * so an operator fixes everything in one go instead of one restart per mistake.
 */
import { configSchema, SECRET_VARIABLES, type Config } from '../schemas/config.ts';

export type { Config, LogLevel } from '../schemas/config.ts';

/** The environment is unusable. Not retriable: the process must be restarted with a fixed config. */
export class ConfigError extends Error {
  readonly code = 'config_invalid';
  readonly retriable = false;

  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** How a bad value is shown: quoted, with URL passwords and secrets kept out of logs. */
function shown(name: string, value: string | undefined): string {
  if (value === undefined) return 'unset';
  if (SECRET_VARIABLES.has(name)) return `${value.length} characters`;
  const redacted = value.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
  return JSON.stringify(redacted.length > 200 ? `${redacted.slice(0, 200)}…` : redacted);
}

/**
 * Parse the environment into the typed config. Unset or empty variables take their defaults.
 * @throws ConfigError listing every bad variable on its own line, e.g.
 *   `PORT: must be an integer from 1 to 65535 (got "abc")`.
 */
export function loadConfig(env: Env = process.env): Config {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    return `${name}: ${issue.message} (got ${shown(name, env[name])})`;
  });
  throw new ConfigError(`Invalid configuration:\n${[...new Set(lines)].join('\n')}`);
}

/**
 * The JWT secret, for the commands that serve the API (the projector alone does not need it).
 * @throws ConfigError when ACCESS_INDEX_JWT_SECRET is unset.
 */
export function requireJwtSecret(config: Pick<Config, 'jwtSecret'>): string {
  if (config.jwtSecret === undefined) {
    throw new ConfigError(
      'ACCESS_INDEX_JWT_SECRET: required to serve the API (an HS256 secret of at least 32 characters); ' + 'set it, or run only the projector (`access-index project`)',
    );
  }
  return config.jwtSecret;
}
