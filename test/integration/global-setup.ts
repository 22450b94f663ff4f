import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { useLocalAws } from '../../local/aws-env';
import { type Emulators, startEmulators } from '../../local/emulators';
import { type IdentityProvider, startIdentityProvider } from '../../local/identity-provider';

declare global {
  // eslint-disable-next-line no-var
  var __emulators: Emulators | undefined;
  // eslint-disable-next-line no-var
  var __identity: IdentityProvider | undefined;
  // eslint-disable-next-line no-var
  var __runtimeDir: string | undefined;
}

/**
 * Starts DynamoDB Local, fauxqs and the local identity provider once for every integration test file
 * (each uses its own table; every service trusts this provider's issuers, LOCAL_IDENTITY_ORIGIN).
 */
export default async function globalSetup(): Promise<void> {
  // A CLI run by a test finds only a service the test names: never a developer's `npm start`.
  globalThis.__runtimeDir = mkdtempSync(path.join(tmpdir(), 'cpis-tests-'));
  process.env.LOCAL_RUNTIME_FILE = path.join(globalThis.__runtimeDir, 'runtime.json');
  const [emulators, identity] = await Promise.all([
    startEmulators(),
    startIdentityProvider({ audience: 'child-protection-sharing' }),
  ]);
  globalThis.__emulators = emulators;
  globalThis.__identity = identity;
  useLocalAws({ dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint });
  process.env.LOCAL_IDENTITY_ORIGIN = identity.origin;
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
}
