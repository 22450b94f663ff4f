/**
 * `npm run decode-stack -- <index.mjs.map> [trace.txt]`: prints a stack trace from a function's logs
 * with bundle positions replaced by source positions. The trace is read from the file, or from standard
 * input. The map is the `index.mjs.map` shipped in the function's code package (docs/deploy.md).
 */
import { readFileSync } from 'node:fs';
import { decodeStack } from './stack-decoder';

const [mapFile, traceFile] = process.argv.slice(2);
if (!mapFile) {
  console.error(
    'Usage: npm run decode-stack -- <index.mjs.map> [trace.txt]   (the trace on standard input if no file)',
  );
  process.exit(2);
}
let map: Parameters<typeof decodeStack>[1];
try {
  map = JSON.parse(readFileSync(mapFile, 'utf8'));
} catch (error) {
  console.error(`Cannot read the source map ${mapFile}: ${(error as Error).message}`);
  process.exit(2);
}
process.stdout.write(decodeStack(readFileSync(traceFile ?? 0, 'utf8'), map));
