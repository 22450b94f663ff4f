import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { decodeStack } from '../../scripts/stack-decoder';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

describe('npm run decode-stack', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'decode-stack-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('turns the positions of a minified bundle, run without --enable-source-maps, into source lines', async () => {
    // Bundled as the stacks bundle a function: ESM, minified, linked source map without sources.
    const bundle = path.join(dir, 'index.mjs');
    await build({
      stdin: {
        contents: "export { parseIssuers } from './functions/http/issuers';",
        resolveDir: REPO_ROOT,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      outfile: bundle,
      logLevel: 'silent',
    });
    const run = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { parseIssuers } from ${JSON.stringify(pathToFileURL(bundle).href)};
         try { parseIssuers('{'); } catch (error) { console.log(error.stack); }`,
      ],
      { encoding: 'utf8' },
    );
    const trace = run.stdout;
    expect(trace).toMatch(/at \w+ \(file:\S+index\.mjs:\d+:\d+\)/);
    expect(trace).not.toContain('issuers.ts');

    const decoded = decodeStack(trace, JSON.parse(await readFile(`${bundle}.map`, 'utf8')));
    const source = (await readFile(path.join(REPO_ROOT, 'functions/http/issuers.ts'), 'utf8')).split('\n');
    const parseLine = source.findIndex((line) => line.includes('JSON.parse(json)')) + 1;
    expect(parseLine).toBeGreaterThan(0);
    expect(decoded).toContain(`functions/http/issuers.ts:${parseLine}:`);
    // What is not a bundle position stays as it was.
    expect(decoded.split('\n')[0]).toBe(trace.split('\n')[0]);
    expect(decoded).toContain('at JSON.parse (<anonymous>)');
  });

  it('leaves positions the map does not cover unchanged', () => {
    const map = {
      version: 3,
      file: 'index.mjs',
      sources: ['../functions/a.ts'],
      sourcesContent: [],
      sourceRoot: '',
      names: [],
      mappings: 'AAAA',
    };
    const trace =
      'Error: x\n    at f (file:///var/task/index.mjs:1:1)\n    at g (file:///var/task/index.mjs:9:5)';
    expect(decodeStack(trace, map)).toBe(
      'Error: x\n    at f (functions/a.ts:1:1)\n    at g (file:///var/task/index.mjs:9:5)',
    );
  });
});
