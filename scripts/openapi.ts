/** `npm run openapi`: writes openapi.json from the route table and schemas. */
import { writeFileSync } from 'node:fs';
import { buildOpenApiDocument } from './openapi-document';

writeFileSync('openapi.json', `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log('Wrote openapi.json');
