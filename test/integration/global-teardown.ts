import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__identity?.close();
  await globalThis.__emulators?.stop();
  if (globalThis.__runtimeDir) rmSync(globalThis.__runtimeDir, { recursive: true, force: true });
}
