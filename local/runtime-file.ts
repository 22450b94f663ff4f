/** Where a running `npm start` tells the CLIs its endpoints (ports are chosen at start-up). */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RuntimeInfo {
  pid: number;
  url: string;
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  tableName: string;
  queuePrefix: string;
}

export const RUNTIME_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '.local',
  'runtime.json',
);

export async function writeRuntimeInfo(info: RuntimeInfo): Promise<void> {
  await mkdir(path.dirname(RUNTIME_FILE), { recursive: true });
  await writeFile(RUNTIME_FILE, JSON.stringify(info, null, 2));
}

export async function removeRuntimeInfo(): Promise<void> {
  await rm(RUNTIME_FILE, { force: true });
}

/** The running service's endpoints; a clear error when it is not running. */
export async function readRuntimeInfo(file: string = RUNTIME_FILE): Promise<RuntimeInfo> {
  let info: RuntimeInfo;
  try {
    info = JSON.parse(await readFile(file, 'utf8')) as RuntimeInfo;
  } catch {
    throw new Error('The local service is not running: start it with `npm start` in another terminal');
  }
  try {
    process.kill(info.pid, 0);
  } catch {
    throw new Error('The local service is not running (its last run ended): start it with `npm start`');
  }
  return info;
}
