/** `npm start`: the whole service on local emulators, until Ctrl-C. */
import { useLocalAws } from './aws-env';
import { readLocalConfig } from './config';
import { devKey } from './dev-key';
import { EmulatorStartError, startEmulators } from './emulators';
import { removeRuntimeInfo, writeRuntimeInfo } from './runtime-file';

async function main(): Promise<void> {
  const config = readLocalConfig(process.env);
  const emulators = await startEmulators({ dataDir: config.DATA_DIR });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    await service?.close().catch(() => undefined);
    await emulators.stop();
    await removeRuntimeInfo();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  let service: Awaited<ReturnType<typeof import('./service').startLocalService>> | undefined;
  try {
    useLocalAws({ dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint });
    process.env.LOCAL_JWT_PUBLIC_JWK = JSON.stringify((await devKey()).publicJwk);
    const { startLocalService } = await import('./service');
    service = await startLocalService({
      tableName: config.TABLE_NAME,
      queuePrefix: config.COUNCIL_QUEUE_NAME_PREFIX,
      port: config.PORT,
      host: config.HOST,
      rateLimits: {
        perUserPerMinute: config.LOOKUP_RATE_PER_USER,
        perOrganisationPerMinute: config.LOOKUP_RATE_PER_ORG,
      },
      onError: (error) =>
        console.error('Local runtime error:', (error as Error).name, (error as Error).message),
    });
  } catch (error) {
    await emulators.stop();
    throw error;
  }
  await writeRuntimeInfo({
    pid: process.pid,
    url: service.url,
    dynamodbEndpoint: emulators.dynamodbEndpoint,
    sqsEndpoint: emulators.sqsEndpoint,
    tableName: config.TABLE_NAME,
    queuePrefix: config.COUNCIL_QUEUE_NAME_PREFIX,
  });
  console.log(`Child protection sharing service (local) listening on ${service.url}`);
  console.log(
    `  DynamoDB Local ${emulators.dynamodbEndpoint} · fauxqs ${emulators.sqsEndpoint} · ${config.DATA_DIR ? `data in ${config.DATA_DIR}` : 'in-memory data'}`,
  );
  console.log(
    '  Tokens: npm run --silent token -- --role clinician --org RXX01 --sub u1 --name "Dr Ada Lovelace" --activity B0107',
  );
  console.log('  Press Ctrl-C to stop.');
}

main().catch((error) => {
  const message =
    error instanceof EmulatorStartError || /^Invalid configuration/.test((error as Error).message)
      ? (error as Error).message
      : String((error as Error).stack ?? error);
  console.error(`Could not start the local service: ${message}`);
  process.exit(1);
});
