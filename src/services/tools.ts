/**
 * The programs the local servers need (java, mvn, redis-server), found up front so that a missing
 * one is reported by name with the way to install it, instead of failing half-way.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KAFKA_VERSION, OPENSEARCH_VERSION } from './paths.ts';
import { ServiceError } from './service-error.ts';

const run = promisify(execFile);

/** A Java runtime: its `java` binary, its home and its feature version (17, 21...). */
export interface JavaRuntime {
  bin: string;
  home: string;
  major: number;
}

/** OpenSearch 2.19 runs on Java 11 to 21 (its security manager is gone in Java 24). */
const SUPPORTED = { min: 11, max: 21 };

async function describeJava(bin: string): Promise<JavaRuntime | undefined> {
  try {
    const { stderr } = await run(bin, ['-XshowSettings:properties', '-version'], { timeout: 20_000 });
    const home = /java\.home = (.+)/.exec(stderr)?.[1]?.trim();
    const spec = /java\.specification\.version = (\S+)/.exec(stderr)?.[1];
    if (!home || !spec) return undefined;
    const major = Number(spec.startsWith('1.') ? spec.slice(2) : spec);
    return { bin, home, major };
  } catch {
    return undefined;
  }
}

/**
 * Finds a Java for Kafka 3.9 and OpenSearch 2.19: ACCESS_INDEX_JAVA_HOME, else JAVA_HOME, else `java`
 * on the PATH; if that one is too new or too old, a suitable JDK under /usr/lib/jvm.
 */
export async function findJava(env: NodeJS.ProcessEnv = process.env): Promise<JavaRuntime> {
  const home = env.ACCESS_INDEX_JAVA_HOME || env.JAVA_HOME;
  const first = await describeJava(home ? join(home, 'bin', 'java') : 'java');
  const fits = (java: JavaRuntime | undefined): boolean => java !== undefined && java.major >= SUPPORTED.min && java.major <= SUPPORTED.max;
  if (first && fits(first)) return first;
  if (!env.ACCESS_INDEX_JAVA_HOME) {
    for (const dir of listJvms()) {
      const candidate = await describeJava(join(dir, 'bin', 'java'));
      if (candidate && fits(candidate)) return candidate;
    }
  }
  const found = first ? `found Java ${first.major} at ${first.home}` : 'no `java` found';
  throw new ServiceError(
    `Java ${SUPPORTED.min}-${SUPPORTED.max} is needed for Kafka ${KAFKA_VERSION} and OpenSearch ${OPENSEARCH_VERSION} (${found}).\n` +
      '  Install it (Debian: apt-get install -y openjdk-17-jre-headless) or point ACCESS_INDEX_JAVA_HOME at a JDK 17.',
  );
}

function listJvms(): string[] {
  try {
    return readdirSync('/usr/lib/jvm').map((name) => join('/usr/lib/jvm', name));
  } catch {
    return [];
  }
}

/** Fails with a clear message when Maven is missing (needed only to download, the first time). */
export async function requireMaven(): Promise<void> {
  try {
    await run('mvn', ['-v'], { timeout: 30_000 });
  } catch {
    throw new ServiceError(
      'Maven (`mvn`) is needed to download Kafka and OpenSearch from Maven Central the first time.\n' +
        '  Install it (Debian: apt-get install -y maven), or copy a filled cache into ACCESS_INDEX_CACHE.',
    );
  }
}

/** The path of `redis-server`, or a clear error saying how to install it. */
export async function requireRedisServer(): Promise<string> {
  try {
    const { stdout } = await run('sh', ['-c', 'command -v redis-server']);
    return stdout.trim();
  } catch {
    throw new ServiceError(
      'Nothing answers on 127.0.0.1:6379 and `redis-server` is not installed, so Redis cannot be started.\n' +
        '  Install it (Debian: apt-get install -y redis-server) or set REDIS_URL to a running Redis.',
    );
  }
}
