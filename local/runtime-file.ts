/**
 * Where a running `npm start` tells the CLIs its endpoints (ports are chosen at start-up). One file
 * belongs to one running instance: `.local/runtime.json` unless LOCAL_RUNTIME_FILE names another, so a
 * second instance (or a test) can run beside the first with a file of its own.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RuntimeInfo {
  pid: number;
  url: string;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tableName: string;
  queuePrefix: string;
  /** The local identity provider (`<origin>/cis2`, `<origin>/systems`): `npm run token` asks it for tokens. */
  identityOrigin?: string;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const DEFAULT_RUNTIME_FILE = path.join(ROOT, '.local', 'runtime.json');

/** The runtime file in use: LOCAL_RUNTIME_FILE (relative to the repository root) or the default. */
export function runtimeFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.LOCAL_RUNTIME_FILE;
  return override ? path.resolve(ROOT, override) : DEFAULT_RUNTIME_FILE;
}

/** A runtime file's path as a person would type it: relative to the repository root when inside it. */
export function displayPath(file: string): string {
  const relative = path.relative(ROOT, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function pidAlive(pid: unknown): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readRecord(file: string): Promise<Partial<RuntimeInfo> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Partial<RuntimeInfo>;
  } catch {
    return undefined;
  }
}

/**
 * Whether the instance a record names still runs. A pid alone can be reused after a hard kill or a
 * reboot, so a record with a URL also needs that URL to answer (or at least not to fail at once).
 */
async function recordLive(record: Partial<RuntimeInfo>): Promise<boolean> {
  if (!pidAlive(record.pid)) return false;
  if (!record.url) return true; // still starting
  try {
    await fetch(`${record.url}/openapi.json`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch (error) {
    // Slow to answer is still running (e.g. busy); refusing the connection is not.
    return (error as Error).name === 'TimeoutError';
  }
}

/** Another instance owns the runtime file: `message` is the one line to show. */
export class RuntimeFileBusy extends Error {
  override name = 'RuntimeFileBusy';
  constructor(
    readonly file: string,
    readonly owner: Partial<RuntimeInfo>,
  ) {
    const where = owner.url ? `is running on ${owner.url}` : 'is starting';
    super(
      `another npm start (pid ${owner.pid}) ${where} and owns ${displayPath(file)}: use that one, or run a second ` +
        'one with its own port and runtime file, e.g. PORT=0 LOCAL_RUNTIME_FILE=.local/runtime-2.json npm start',
    );
  }
}

/**
 * Takes the runtime file for this process before anything starts: created exclusively, holding only
 * the pid until writeRuntimeInfo fills it in. A file left by an instance that no longer runs is
 * replaced; one whose instance runs is not (RuntimeFileBusy).
 */
export async function claimRuntimeFile(file: string, pid: number = process.pid): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(file, JSON.stringify({ pid }), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readRecord(file);
    // An unreadable record may be one being written right now: look again before calling it stale.
    if (owner && (await recordLive(owner))) throw new RuntimeFileBusy(file, owner);
    if (!owner && attempt === 0) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    if (attempt >= 2) throw new RuntimeFileBusy(file, owner ?? {});
    await rm(file, { force: true });
  }
}

/** Fills in the claimed runtime file (atomically: a CLI never reads half a file). */
export async function writeRuntimeInfo(info: RuntimeInfo, file: string = runtimeFilePath()): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${info.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(info, null, 2));
  await rename(temporary, file);
}

/** Removes the runtime file only if it names this process: never another instance's. */
export async function removeRuntimeInfo(
  file: string = runtimeFilePath(),
  pid: number = process.pid,
): Promise<boolean> {
  const record = await readRecord(file);
  if (record?.pid !== pid) return false;
  await rm(file, { force: true });
  return true;
}

/** The running service's endpoints; a clear error when it is not running. */
export async function readRuntimeInfo(file: string = runtimeFilePath()): Promise<RuntimeInfo> {
  const record = await readRecord(file);
  const named = file === DEFAULT_RUNTIME_FILE ? '' : ` (runtime file ${displayPath(file)})`;
  if (!record) {
    throw new Error(
      `The local service is not running${named}: start it with \`npm start\` in another terminal`,
    );
  }
  if (!pidAlive(record.pid)) {
    throw new Error(
      `The local service is not running (its last run ended)${named}: start it with \`npm start\``,
    );
  }
  if (!record.url) {
    throw new Error(
      `The local service is still starting${named}: try again once \`npm start\` prints its URL`,
    );
  }
  return record as RuntimeInfo;
}
