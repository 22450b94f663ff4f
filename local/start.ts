/** `npm start`: the whole service on local emulators, until Ctrl-C. */
import { createServer } from 'node:net';
import { useLocalAws } from './aws-env';
import { type LocalConfig, readLocalConfig } from './config';
import { EmulatorStartError, type Emulators, startEmulators } from './emulators';
import { type IdentityProvider, startIdentityProvider } from './identity-provider';
import {
  claimRuntimeFile,
  displayPath,
  RuntimeFileBusy,
  removeRuntimeInfo,
  runtimeFilePath,
  writeRuntimeInfo,
} from './runtime-file';
import { ensureWebViewBuilt, WEB_PATH } from './web-view';

type LocalService = Awaited<ReturnType<typeof import('./service').startLocalService>>;

/** A start-up failure whose message is the whole story: printed as one line, without a stack. */
class StartError extends Error {
  override name = 'StartError';
}

/** The one line for a listen error on HOST:PORT, or undefined for any other error. */
function listenProblem(error: unknown, host: string, port: number): string | undefined {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return `port ${port} (PORT) is in use on ${host}: stop the other process or set PORT to a free port (PORT=0 picks one)`;
    case 'EACCES':
      return `port ${port} (PORT) on ${host} needs privileges this user lacks: set PORT to 1024 or above (PORT=0 picks one)`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `${host} (HOST) is not an address of this machine: set HOST to 127.0.0.1 or one of its addresses`;
    default:
      return undefined;
  }
}

/** Fails at once, before any emulator starts, when the API's port cannot be had. */
async function checkListen(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error) => reject(new StartError(listenProblem(error, host, port) ?? String(error))));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

function fail(message: string): never {
  console.error(`Could not start the local service: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  let config: LocalConfig;
  try {
    config = readLocalConfig(process.env);
  } catch (error) {
    fail((error as Error).message);
  }
  const runtimeFile = runtimeFilePath();
  let claimed = false;
  let emulators: Emulators | undefined;
  let identity: IdentityProvider | undefined;
  let service: LocalService | undefined;
  let stopping = false;

  // Signals are handled from the start, so that a Ctrl-C during start-up also cleans up.
  const stop = async (code: number, message?: string) => {
    if (stopping) return;
    stopping = true;
    if (message) console.error(message);
    else console.log('\nStopping…');
    await service?.close().catch(() => undefined);
    await identity?.close().catch(() => undefined);
    await emulators?.stop().catch(() => undefined);
    if (claimed) await removeRuntimeInfo(runtimeFile).catch(() => undefined);
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));

  try {
    await claimRuntimeFile(runtimeFile);
    claimed = true;
    if (config.PORT !== 0) await checkListen(config.HOST, config.PORT);
    emulators = await startEmulators({ dataDir: config.DATA_DIR });
    if (stopping) return;
    useLocalAws({ dynamodb: emulators.dynamodbEndpoint, sqs: emulators.sqsEndpoint });
    // The service trusts this provider's two issuers and no others.
    identity = await startIdentityProvider({ audience: 'child-protection-sharing' });
    if (stopping) return;
    // The clinician web view, built first when web/dist is missing or older than its sources.
    await ensureWebViewBuilt();
    if (stopping) return;
    const { startLocalService } = await import('./service');
    service = await startLocalService({
      identityOrigin: identity.origin,
      webView: { issuer: identity.cis2Issuer },
      tableName: config.TABLE_NAME,
      queuePrefix: config.COUNCIL_QUEUE_NAME_PREFIX,
      port: config.PORT,
      host: config.HOST,
      rateLimits: {
        perCallerPerMinute: config.RATE_PER_CALLER,
        perUserPerMinute: config.LOOKUP_RATE_PER_USER,
        perOrganisationPerMinute: config.LOOKUP_RATE_PER_ORG,
      },
      // Once stopping, the emulators (signalled with this process's group on Ctrl-C) may be gone first.
      onError: (error) => {
        if (!stopping) console.error('Local runtime error:', (error as Error).name, (error as Error).message);
      },
    }).catch((error) => {
      // Another process may take the port between the check above and the listen.
      const problem = listenProblem(error, config.HOST, config.PORT);
      throw problem ? new StartError(problem) : error;
    });
    if (stopping) return;
    await writeRuntimeInfo(
      {
        pid: process.pid,
        url: service.url,
        dynamodbEndpoint: emulators.dynamodbEndpoint,
        sqsEndpoint: emulators.sqsEndpoint,
        tableName: config.TABLE_NAME,
        queuePrefix: config.COUNCIL_QUEUE_NAME_PREFIX,
        identityOrigin: identity.origin,
      },
      runtimeFile,
    );
  } catch (error) {
    if (stopping) return;
    const oneLine =
      error instanceof StartError || error instanceof RuntimeFileBusy || error instanceof EmulatorStartError;
    const message = oneLine ? (error as Error).message : String((error as Error).stack ?? error);
    await stop(1, `Could not start the local service: ${message}`);
    return;
  }

  console.log(`Child protection sharing service (local) listening on ${service.url}`);
  console.log(`  API reference ${service.url}/docs · OpenAPI document ${service.url}/openapi.json`);
  console.log(
    `  Clinician web view ${service.url}${WEB_PATH} (sign in as a test user of the identity provider)`,
  );
  console.log(
    `  DynamoDB Local ${emulators.dynamodbEndpoint} · fauxqs ${emulators.sqsEndpoint} · ${config.DATA_DIR ? `data in ${config.DATA_DIR}` : 'in-memory data'}`,
  );
  console.log(
    `  Identity provider ${identity.origin} (local only; the service trusts its two issuers and no others)`,
  );
  for (const [who, issuer] of [
    ['clinicians (CIS2 stand-in)', identity.cis2Issuer],
    ['systems (client credentials)', identity.systemsIssuer],
  ])
    console.log(`    ${who}: discovery ${issuer}/.well-known/openid-configuration · keys ${issuer}/jwks`);
  console.log(`  Runtime file ${displayPath(runtimeFile)} (the CLIs find this service through it)`);
  console.log(
    '  Tokens (from that provider): npm run --silent token -- --role clinician --org RXX01 --sub u1 --name "Dr Ada Lovelace" --activity B0107',
  );
  console.log('  Press Ctrl-C to stop.');
}

main().catch((error) => fail(String((error as Error).stack ?? error)));
