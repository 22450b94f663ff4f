import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

// The functions bundle zod/mini, which has no locale of its own: schemas.ts configures English. Tested in
// a process of its own, since anything here that loads classic zod would configure it anyway.
describe('validation messages in a bundled function', () => {
  it('are English, not zod/mini bare defaults', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'schema-messages-'));
    try {
      const out = path.join(dir, 'index.mjs');
      await build({
        stdin: {
          contents: `import { councilBodySchema, planBodySchema } from './functions/core/schemas';
            console.log(JSON.stringify([
              ...councilBodySchema().safeParse({ name: 'x', emergencyDutyPhone: '020 7946 0999', extra: 1 }).error.issues,
              ...planBodySchema().safeParse([]).error.issues,
            ].map((issue) => issue.message)));`,
          resolveDir: REPO_ROOT,
          loader: 'ts',
        },
        bundle: true,
        platform: 'node',
        format: 'esm',
        outfile: out,
        logLevel: 'silent',
      });
      const run = spawnSync(process.execPath, [out], { encoding: 'utf8' });
      expect(JSON.parse(run.stdout)).toEqual([
        'Unrecognized key: "extra"',
        'Invalid input: expected object, received array',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
