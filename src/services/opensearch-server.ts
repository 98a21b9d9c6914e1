/**
 * Local OpenSearch: the minimal distribution from Maven Central (no JDK, no security plugin) plus
 * the analysis-common module, single node on 127.0.0.1:9200, run as an unprivileged user when root.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalServer } from './local-server.ts';
import { fetchWithMaven } from './maven-fetch.ts';
import { OPENSEARCH_VERSION, PORTS, type ServicePaths } from './paths.ts';
import { spawnDetached } from './process-control.ts';
import { probeOpenSearch } from './readiness.ts';
import { chownTree, ensureServiceUser, type ServiceUser } from './service-user.ts';
import { renderTemplate } from './templates.ts';
import { findJava, type JavaRuntime } from './tools.ts';

const run = promisify(execFile);
const HEAP = '-Xms1g -Xmx1g';

/** Creates the local OpenSearch definition; nothing happens until prepare/start. */
export function createOpenSearchServer(paths: ServicePaths): LocalServer {
  const dirs = paths.opensearch;
  const url = `http://127.0.0.1:${PORTS.opensearch}`;
  let java: JavaRuntime | undefined;
  let user: ServiceUser | undefined;

  return {
    id: 'opensearch',
    label: 'OpenSearch',
    address: url,
    port: PORTS.opensearch,
    version: OPENSEARCH_VERSION,
    pidFile: join(paths.run, 'opensearch.pid'),
    logs: join(dirs.logs, 'access-index-dev.log'),
    startTimeoutMs: 180_000,
    probe: () => probeOpenSearch(url),

    async prepare(print) {
      java = await findJava();
      user = await ensureServiceUser(print);
      // The download lands in ~/.m2 and the cache; the unpacked home is per version and reused.
      await fetchWithMaven({
        label: `OpenSearch ${OPENSEARCH_VERSION} (integ-test-zip distribution and analysis-common)`,
        templatesDir: paths.templates,
        pomTemplate: 'opensearch/pom.xml',
        values: { opensearchVersion: OPENSEARCH_VERSION, modulesDir: dirs.downloads, unpackDir: dirs.root },
        goals: ['dependency:copy-dependencies@opensearch-jars', 'dependency:unpack-dependencies@opensearch-zip'],
        workDir: dirs.downloads,
        markerFile: join(dirs.home, '.fetched'),
        print,
      });
      for (const name of await readdir(join(dirs.home, 'bin'))) await chmod(join(dirs.home, 'bin', name), 0o755);
      await installAnalysisCommon(paths, print);
      await Promise.all([dirs.data, dirs.logs, dirs.snapshots].map((dir) => mkdir(dir, { recursive: true })));
      await renderTemplate(paths.templates, 'opensearch/opensearch.yml', join(dirs.home, 'config', 'opensearch.yml'), {
        port: PORTS.opensearch,
        dataDir: dirs.data,
        logsDir: dirs.logs,
        snapshotsDir: dirs.snapshots,
      });
      if (user) await chownTree(dirs.root, user);
    },

    async start() {
      java ??= await findJava();
      // In the command line of both the launcher script and the java it execs into.
      const marker = dirs.home;
      const pid = spawnDetached({
        command: join(dirs.home, 'bin', 'opensearch'),
        args: [],
        cwd: dirs.home,
        env: {
          ...process.env,
          ...(user ? { HOME: user.home, USER: user.name, LOGNAME: user.name } : {}),
          OPENSEARCH_JAVA_HOME: java.home,
          OPENSEARCH_JAVA_OPTS: HEAP,
          OPENSEARCH_PATH_CONF: join(dirs.home, 'config'),
        },
        logFile: join(dirs.logs, 'stdout.log'),
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
      return { pid, marker, startedAt: new Date().toISOString() };
    },
  };
}

/**
 * The integ-test-zip has only transport modules. analysis-common (edge_ngram, lowercase normalizer,
 * ...) is a plain jar on Maven Central; its Lucene dependency is already in the server's lib/.
 * ACCESS_INDEX_OPENSEARCH_MINIMAL=1 leaves it out.
 */
async function installAnalysisCommon(paths: ServicePaths, print: (line: string) => void): Promise<void> {
  const moduleDir = join(paths.opensearch.home, 'modules', 'analysis-common');
  if (process.env.ACCESS_INDEX_OPENSEARCH_MINIMAL === '1') {
    await run('rm', ['-rf', moduleDir]);
    return;
  }
  const jar = `analysis-common-${OPENSEARCH_VERSION}.jar`;
  await mkdir(moduleDir, { recursive: true });
  await copyFile(join(paths.opensearch.downloads, jar), join(moduleDir, jar));
  await renderTemplate(paths.templates, 'opensearch/analysis-common.plugin-descriptor.properties', join(moduleDir, 'plugin-descriptor.properties'), {
    opensearchVersion: OPENSEARCH_VERSION,
  });
  if (!existsSync(join(moduleDir, '.installed-by-access-index'))) {
    await writeFile(join(moduleDir, '.installed-by-access-index'), 'services up\n');
    print(`  installed the analysis-common module into ${moduleDir}`);
  }
}
