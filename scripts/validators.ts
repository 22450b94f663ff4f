/** `npm run validators`: writes the validators compiled from the zod schemas (compiled-validators.ts). */
import { writeFileSync } from 'node:fs';
import { COMPILED_VALIDATORS } from './compiled-validators';

for (const { path, build } of COMPILED_VALIDATORS) {
  writeFileSync(path, build());
  console.log(`Wrote ${path}`);
}
