/** Structured JSON logs (pino) on stdout: one line per event, machine-readable. */
import { pino, type Logger } from 'pino';

export type { Logger };

/** A logger for one component; `level` comes from the config (LOG_LEVEL). */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    level: options.level ?? 'info',
    base: { service: 'access-index', ...(options.name ? { component: options.name } : {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** A logger that drops everything (tests that assert on behaviour, not logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
