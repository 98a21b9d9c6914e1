/**
 * What the figures were measured on, read at run time: cores, memory, CPU model, Node, and the
 * versions the servers report (OpenSearch GET /, Redis INFO, Kafka from the broker's jar names).
 * Also the servers' process ids, to sample their CPU time during a measurement.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { Redis } from 'ioredis';
import type { Config } from '../../src/config.ts';
import { findPortHolder } from '../../src/services/process-control.ts';

export interface MachineInfo {
  cores: number;
  memoryGiB: number;
  cpuModel: string;
  node: string;
  kafka: string;
  opensearch: string;
  redis: string;
  /** server pids on this machine, when they can be found (for CPU sampling) */
  pids: { kafka?: number; opensearch?: number; redis?: number };
  /** the 1-minute load average when the bench started (other users of the machine) */
  loadAverage: number;
  /** the code measured: commit, and the product files that differed from it (a shared tree) */
  source: { commit: string; uncommitted: string[] };
}

function sourceState(): MachineInfo['source'] {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--', 'src', 'projections', 'schemas'], { encoding: 'utf8' });
    return {
      commit,
      uncommitted: status
        .split('\n')
        .filter(Boolean)
        .map((line) => line.slice(3)),
    };
  } catch {
    return { commit: 'unknown', uncommitted: [] };
  }
}

export async function describeMachine(config: Config): Promise<MachineInfo> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const opensearchRoot = (await fetch(config.opensearchUrl)
    .then((r) => r.json())
    .catch(() => ({}))) as { version?: { number?: string; distribution?: string } };
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
  const redisInfo = await redis.info('server').finally(() => redis.disconnect());
  const ports = {
    kafka: Number(config.kafkaBrokers[0]?.split(':').pop() ?? 9092),
    opensearch: Number(new URL(config.opensearchUrl).port || 9200),
    redis: Number(new URL(config.redisUrl).port || 6379),
  };
  const [kafkaProc, opensearchProc, redisProc] = await Promise.all([findPortHolder(ports.kafka), findPortHolder(ports.opensearch), findPortHolder(ports.redis)]);
  const kafkaVersion =
    kafkaProc &&
    (/kafka_2\.1[23]-(\d+\.\d+\.\d+)\.jar/.exec(kafkaProc.cmdline)?.[1] ??
      /kafka-clients-(\d+\.\d+\.\d+)\.jar/.exec(kafkaProc.cmdline)?.[1] ??
      /kafka-(\d+\.\d+\.\d+)/.exec(kafkaProc.cmdline)?.[1]);
  return {
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    node: process.version,
    kafka: kafkaVersion ?? 'unknown',
    opensearch: opensearchRoot.version?.number ? `${opensearchRoot.version.number} (${opensearchRoot.version.distribution})` : 'unknown',
    redis: /redis_version:(\S+)/.exec(redisInfo)?.[1] ?? 'unknown',
    pids: {
      ...(kafkaProc ? { kafka: kafkaProc.pid } : {}),
      ...(opensearchProc ? { opensearch: opensearchProc.pid } : {}),
      ...(redisProc ? { redis: redisProc.pid } : {}),
    },
    loadAverage: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
    source: sourceState(),
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN when unreadable. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

/**
 * A thread's time on a core and its time runnable but waiting for one (seconds), from the kernel's
 * scheduler statistics (/proc/<pid>/task/<tid>/schedstat: run, run-queue wait, slices); NaN where
 * the file is absent (not Linux). The main thread of a process is the task whose id is the pid.
 */
export function threadSchedstat(pid: number, tid = pid): { runS: number; waitS: number } {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
    return { runS: (run ?? Number.NaN) / 1e9, waitS: (wait ?? Number.NaN) / 1e9 };
  } catch {
    return { runS: Number.NaN, waitS: Number.NaN };
  }
}

/** Samples the CPU seconds of the servers and of the whole machine, to diff around a measurement. */
export function cpuSnapshot(pids: MachineInfo['pids']) {
  const total = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const idle = (total[3] ?? 0) + (total[4] ?? 0);
  const busy = total.reduce((a, b) => a + b, 0) - idle;
  const own = process.cpuUsage();
  return {
    self: (own.user + own.system) / 1e6,
    kafka: pids.kafka ? processCpuSeconds(pids.kafka) : Number.NaN,
    opensearch: pids.opensearch ? processCpuSeconds(pids.opensearch) : Number.NaN,
    redis: pids.redis ? processCpuSeconds(pids.redis) : Number.NaN,
    machineBusy: busy / 100,
  };
}

export type CpuSnapshot = ReturnType<typeof cpuSnapshot>;

/** CPU seconds used between two snapshots, per process and machine-wide. */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuSnapshot {
  return {
    self: b.self - a.self,
    kafka: b.kafka - a.kafka,
    opensearch: b.opensearch - a.opensearch,
    redis: b.redis - a.redis,
    machineBusy: b.machineBusy - a.machineBusy,
  };
}
