/**
 * The validators compiled ahead for the authorizer and the dispatch function (docs/adr/0059) are what
 * the committed schemas compile to: a schema changed without `npm run validators` fails here.
 */
import { readFileSync } from 'node:fs';
import { COMPILED_VALIDATORS } from '../../scripts/compiled-validators';

describe('compiled validators', () => {
  it.each(COMPILED_VALIDATORS.map(({ path, build }) => [path, build]))(
    '%s is up to date (run `npm run validators`)',
    (path, build) => {
      expect(readFileSync(path, 'utf8')).toBe(build());
    },
  );
});
