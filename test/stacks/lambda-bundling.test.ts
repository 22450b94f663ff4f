/**
 * The deployed bundles, built with the stack's own options: their credentials (the SDK's default chain
 * aliased to the environment-only provider, docs/adr/0050), and what the authorizer's and dispatch's leave out.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import { BUNDLE_ALIASES } from '../../stacks/constructs/lambda-bundling';
import { LAMBDA_BUNDLING } from '../../stacks/constructs/service-function';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const out = mkdtempSync(path.join(tmpdir(), 'lambda-bundling-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** esbuild's own options for the stack's bundling, run from the project root as the stack runs it. */
const stackOptions = (): BuildOptions => ({
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: LAMBDA_BUNDLING.target,
  mainFields: LAMBDA_BUNDLING.mainFields,
  banner: { js: LAMBDA_BUNDLING.banner },
  minify: LAMBDA_BUNDLING.minify,
  absWorkingDir: ROOT,
  alias: Object.fromEntries(
    LAMBDA_BUNDLING.esbuildArgs['--alias'].map((pair) => pair.split('=') as [string, string]),
  ),
  metafile: true,
  logLevel: 'silent',
});

/** The SDK's default chain, and the sources only it loads. */
const CHAIN =
  /@aws-sdk\/(credential-provider-(node|ini|sso|process|web-identity|http|login)|nested-clients|token-providers)\/|@smithy\/credential-provider-imds\//;

describe('deployed bundles', () => {
  it('alias the default credential chain to the environment-only provider', () => {
    expect(BUNDLE_ALIASES).toEqual({
      '@aws-sdk/credential-provider-node': './functions/lambda-credentials.ts',
    });
    expect(LAMBDA_BUNDLING.esbuildArgs).toEqual({
      '--alias': ['@aws-sdk/credential-provider-node=./functions/lambda-credentials.ts'],
    });
  });

  it.each(['lookup', 'dispatch'])('leave the chain out of %s', async (entry) => {
    const result = await build({
      ...stackOptions(),
      entryPoints: [`functions/${entry}.ts`],
      outfile: path.join(out, entry, 'index.mjs'),
    });
    const inputs = Object.keys(result.metafile?.inputs ?? {});
    expect(inputs).toContain('functions/lambda-credentials.ts');
    expect(inputs.some((input) => input.includes('@aws-sdk/credential-provider-env/'))).toBe(true);
    expect(inputs.filter((input) => CHAIN.test(input))).toEqual([]);
  });

  it.each([
    ['authorizer', 'functions/http/claims-validator.generated.ts'],
    ['dispatch', 'functions/notify/council-message-validators.generated.ts'],
  ])(
    'leave zod and Ajv out of %s, whose checks are compiled ahead (docs/adr/0059)',
    async (entry, compiled) => {
      const result = await build({
        ...stackOptions(),
        entryPoints: [`functions/${entry}.ts`],
        outfile: path.join(out, `${entry}-checks`, 'index.mjs'),
      });
      const inputs = Object.keys(result.metafile?.inputs ?? {});
      expect(inputs).toContain(compiled);
      expect(
        inputs.filter((input) => /node_modules\/(zod|ajv)\/|functions\/environment\.ts/.test(input)),
      ).toEqual([]);
    },
  );

  it('give an SDK client the credentials in the environment, and fail clearly without them', async () => {
    const file = path.join(out, 'client', 'index.mjs');
    await build({
      ...stackOptions(),
      stdin: {
        contents: `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
export const credentials = () => new DynamoDBClient({ region: 'eu-west-2' }).config.credentials();`,
        resolveDir: ROOT,
        loader: 'ts',
      },
      outfile: file,
    });
    const run = (env: Record<string, string>) =>
      execFileSync(
        process.execPath,
        [
          '--no-warnings',
          '--input-type=module',
          '-e',
          `const { credentials } = await import(${JSON.stringify(pathToFileURL(file).href)});
credentials().then((c) => console.log(JSON.stringify(c)), (e) => console.log(JSON.stringify({ error: e.name, message: e.message })));`,
        ],
        // No HOME: a profile or credentials file there would serve the full chain, never this one.
        { env: { PATH: process.env.PATH ?? '', HOME: out, ...env }, encoding: 'utf8' },
      );
    expect(
      JSON.parse(
        run({
          AWS_ACCESS_KEY_ID: 'AKIDLAMBDA',
          AWS_SECRET_ACCESS_KEY: 'secret',
          AWS_SESSION_TOKEN: 'session',
        }),
      ),
    ).toMatchObject({ accessKeyId: 'AKIDLAMBDA', secretAccessKey: 'secret', sessionToken: 'session' });
    expect(JSON.parse(run({}))).toEqual({
      error: 'CredentialsProviderError',
      message: 'Unable to find environment variable credentials.',
    });
  });
});
