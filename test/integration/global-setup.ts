import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useLocalAws } from '../../local/aws-env';
import { devKey } from '../../local/dev-key';
import { type Emulators, startEmulators } from '../../local/emulators';

declare global {
  // eslint-disable-next-line no-var
  var __emulators: Emulators | undefined;
  // eslint-disable-next-line no-var
  var __runtimeDir: string | undefined;
}

/** Starts DynamoDB Local and fauxqs once for every integration test file (each uses its own table). */
export default async function globalSetup(): Promise<void> {
  // A CLI run by a test finds only a service the test names: never a developer's `npm start`.
  globalThis.__runtimeDir = mkdtempSync(path.join(tmpdir(), 'cpis-tests-'));
  process.env.LOCAL_RUNTIME_FILE = path.join(globalThis.__runtimeDir, 'runtime.json');
  const emulators = await startEmulators();
  globalThis.__emulators = emulators;
  useLocalAws({ dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint });
  process.env.LOCAL_JWT_PUBLIC_JWK = JSON.stringify((await devKey()).publicJwk);
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
}
