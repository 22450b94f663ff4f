/**
 * `npm run asyncapi`: writes asyncapi.json from the council message schemas, and the dispatch
 * function's validators compiled from it.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { ASYNCAPI_PATH, buildAsyncApiDocument } from './asyncapi-document';
import { buildCouncilMessageValidators, VALIDATORS_PATH } from './council-message-validators';

const document = buildAsyncApiDocument();
writeFileSync(ASYNCAPI_PATH, `${JSON.stringify(document, null, 2)}\n`);
// In the layout `npm run check` expects (Biome formats JSON files too).
execFileSync('node_modules/.bin/biome', ['format', '--write', ASYNCAPI_PATH], { stdio: 'ignore' });
console.log(`Wrote ${ASYNCAPI_PATH}`);
writeFileSync(VALIDATORS_PATH, buildCouncilMessageValidators(document as never));
console.log(`Wrote ${VALIDATORS_PATH}`);
