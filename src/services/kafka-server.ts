/**
 * Local Kafka: single node in KRaft combined mode, jars from Maven Central, run with `java` directly.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalServer } from './local-server.ts';
import { fetchWithMaven } from './maven-fetch.ts';
import { KAFKA_VERSION, PORTS, type ServicePaths } from './paths.ts';
import { spawnDetached } from './process-control.ts';
import { probeKafka } from './readiness.ts';
import { ServiceError } from './service-error.ts';
import { renderTemplate } from './templates.ts';
import { findJava, type JavaRuntime } from './tools.ts';

const run = promisify(execFile);

/**
 * A new KRaft cluster id: 16 random bytes in URL-safe base64, as `kafka-storage random-uuid` prints.
 * Like Kafka's own Uuid.randomUuid, it never begins with '-': the storage tool's argument parser
 * would read such an id as an option and refuse to format (one id in 64 did, before this rule).
 */
export function newClusterId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Creates the local Kafka definition; nothing happens until prepare/start. */
// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createKafkaServer(paths: ServicePaths): LocalServer {
  const dirs = paths.kafka;
  const configFile = join(dirs.config, 'server.properties');
  let java: JavaRuntime | undefined;

  const classpathArgs = (): string[] => [`-Dlog4j.configuration=file:${join(dirs.config, 'log4j.properties')}`, `-Dkafka.logs.dir=${dirs.logs}`, '-cp', `${dirs.libs}/*`];

  return {
    id: 'kafka',
    label: 'Kafka',
    address: `127.0.0.1:${PORTS.kafka}`,
    port: PORTS.kafka,
    version: KAFKA_VERSION,
    pidFile: join(paths.run, 'kafka.pid'),
    logs: join(dirs.logs, 'server.log'),
    startTimeoutMs: 120_000,
    probe: () => probeKafka([`127.0.0.1:${PORTS.kafka}`]),

    async prepare(print) {
      java = await findJava();
      await fetchWithMaven({
        label: `Kafka ${KAFKA_VERSION} (org.apache.kafka:kafka_2.13 and its runtime jars)`,
        templatesDir: paths.templates,
        pomTemplate: 'kafka/pom.xml',
        values: { kafkaVersion: KAFKA_VERSION, libsDir: dirs.libs },
        goals: ['dependency:copy-dependencies@kafka-libs'],
        workDir: dirs.root,
        markerFile: join(dirs.libs, '.fetched'),
        print,
      });
      await Promise.all([dirs.config, dirs.data, dirs.logs].map((dir) => mkdir(dir, { recursive: true })));
      await renderTemplate(paths.templates, 'kafka/server.properties', configFile, {
        port: PORTS.kafka,
        controllerPort: PORTS.kafkaController,
        dataDir: dirs.data,
      });
      await renderTemplate(paths.templates, 'kafka/log4j.properties', join(dirs.config, 'log4j.properties'), {});
      if (!existsSync(join(dirs.data, 'meta.properties'))) {
        const clusterId = newClusterId();
        print(`  formatting Kafka storage in ${dirs.data} (cluster id ${clusterId})`);
        try {
          await run(java.bin, [...classpathArgs(), 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', configFile], {
            timeout: 120_000,
          });
        } catch (error) {
          const output = error as { stdout?: string; stderr?: string };
          throw new ServiceError(`Formatting Kafka storage failed:\n${output.stdout ?? ''}${output.stderr ?? ''}`);
        }
      }
    },

    async start() {
      java ??= await findJava();
      const pid = spawnDetached({
        command: java.bin,
        args: ['-Xms512m', '-Xmx1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true', ...classpathArgs(), 'kafka.Kafka', configFile],
        cwd: dirs.root,
        env: process.env,
        logFile: join(dirs.logs, 'stdout.log'),
      });
      return { pid, marker: configFile, startedAt: new Date().toISOString() };
    },

    versionFromCommandLine(cmdline) {
      return /kafka_2\.1[23]-(\d+\.\d+\.\d+)\.jar/.exec(cmdline)?.[1] ?? /kafka-clients-(\d+\.\d+\.\d+)\.jar/.exec(cmdline)?.[1];
    },
  };
}
