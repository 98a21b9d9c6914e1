/**
 * OpenSearch refuses to run as root. When `services up` runs as root, OpenSearch runs as the
 * unprivileged system user `access-index` (created here if missing), which owns its folders.
 */
import { execFile } from 'node:child_process';
import { chown, mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { SERVICE_USER, SERVICE_USER_HOME } from './paths.ts';
import { ServiceError } from './service-error.ts';

const run = promisify(execFile);

/** The user a server runs as. */
export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

async function idOf(flag: '-u' | '-g'): Promise<number | undefined> {
  try {
    return Number((await run('id', [flag, SERVICE_USER])).stdout.trim());
  } catch {
    return undefined;
  }
}

/** Undefined when we are not root (servers then run as ourselves); otherwise the service user. */
export async function ensureServiceUser(print: (line: string) => void): Promise<ServiceUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  if ((await idOf('-u')) === undefined) {
    try {
      await run('useradd', ['--system', '--home-dir', SERVICE_USER_HOME, '--shell', '/usr/sbin/nologin', SERVICE_USER]);
    } catch (error) {
      throw new ServiceError(`Could not create the user ${SERVICE_USER} for OpenSearch: ${(error as Error).message}`);
    }
    print(`  created system user ${SERVICE_USER} (OpenSearch refuses to run as root)`);
  }
  const uid = await idOf('-u');
  const gid = await idOf('-g');
  if (uid === undefined || gid === undefined) throw new ServiceError(`User ${SERVICE_USER} has no uid/gid`);
  await mkdir(SERVICE_USER_HOME, { recursive: true });
  await chown(SERVICE_USER_HOME, uid, gid);
  return { name: SERVICE_USER, uid, gid, home: SERVICE_USER_HOME };
}

/** Gives a folder tree to the user (chown -R). */
export async function chownTree(path: string, user: ServiceUser): Promise<void> {
  await run('chown', ['-R', `${user.uid}:${user.gid}`, path]);
}
