/**
 * `npm run asyncapi`: writes asyncapi.json from the council message schemas; the npm script then runs
 * validators.ts, which compiles the dispatch function's message check from it.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { ASYNCAPI_PATH, buildAsyncApiDocument } from './asyncapi-document';

writeFileSync(ASYNCAPI_PATH, `${JSON.stringify(buildAsyncApiDocument(), null, 2)}\n`);
// In the layout `npm run check` expects (Biome formats JSON files too).
execFileSync('node_modules/.bin/biome', ['format', '--write', ASYNCAPI_PATH], { stdio: 'ignore' });
console.log(`Wrote ${ASYNCAPI_PATH}`);
