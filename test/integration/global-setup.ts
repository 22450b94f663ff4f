import { useLocalAws } from '../../local/aws-env';
import { devKey } from '../../local/dev-key';
import { type Emulators, startEmulators } from '../../local/emulators';

declare global {
  // eslint-disable-next-line no-var
  var __emulators: Emulators | undefined;
}

/** Starts DynamoDB Local and fauxqs once for every integration test file (each uses its own table). */
export default async function globalSetup(): Promise<void> {
  const emulators = await startEmulators();
  globalThis.__emulators = emulators;
  useLocalAws({ dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint });
  process.env.LOCAL_JWT_PUBLIC_JWK = JSON.stringify((await devKey()).publicJwk);
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
}
