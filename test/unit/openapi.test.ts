import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { ERROR_CODES } from '../../functions/core/schemas';
import { routes } from '../../functions/http/routes';
import { buildOpenApiDocument } from '../../scripts/openapi-document';

const document = buildOpenApiDocument() as { paths: Record<string, Record<string, any>> };

describe('openapi.json', () => {
  it('is a valid OpenAPI 3 document', async () => {
    const result = await new Validator().validate(document as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('is up to date with the schemas (run `npm run openapi` after changing them)', () => {
    expect(JSON.parse(readFileSync('openapi.json', 'utf8'))).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it.each(routes.map((route) => [route.method, route.path, route]))(
    'covers %s %s and each of its errors',
    (method, path, route) => {
      const operation = document.paths[path]?.[method.toLowerCase()];
      expect(operation).toBeDefined();
      const documented = Object.values(operation.responses).flatMap((response: any) =>
        Object.keys(response.content?.['application/json']?.examples ?? {}),
      );
      expect(documented.sort()).toEqual([...route.errors].sort());
      for (const response of route.responses)
        expect(operation.responses[String(response.status)]).toBeDefined();
    },
  );

  it('documents every error code of the contract somewhere', () => {
    const all = new Set(routes.flatMap((route) => route.errors));
    for (const code of ERROR_CODES) {
      expect(all).toContain(code);
    }
  });
});
