/**
 * What the orchestrator needs to know about one local server (Kafka, OpenSearch or Redis).
 */
import type { PidRecord } from './process-control.ts';
import type { Probe } from './readiness.ts';

/** Which server. */
export type ServerId = 'kafka' | 'opensearch' | 'redis';

/** One server `services up` can find, or fetch, configure and start. */
export interface LocalServer {
  id: ServerId;
  /** "Kafka" */
  label: string;
  /** what clients use: "127.0.0.1:9092", "http://127.0.0.1:9200", "redis://127.0.0.1:6379" */
  address: string;
  port: number;
  /** the version `prepare` installs (undefined for Redis: whatever the system has) */
  version?: string;
  pidFile: string;
  /** where to look when it fails */
  logs: string;
  /** how long a start may take before we give up */
  startTimeoutMs: number;
  /** does it answer, and is it usable? */
  probe(): Promise<Probe>;
  /** download (first time), write config, create folders; idempotent */
  prepare(print: (line: string) => void): Promise<void>;
  /** spawn detached; the record goes into the pid file */
  start(): Promise<PidRecord>;
  /** the version, read from a running process's command line, when the probe cannot tell */
  versionFromCommandLine?(cmdline: string): string | undefined;
}
