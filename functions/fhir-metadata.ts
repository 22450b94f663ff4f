/** The FHIR R4 CapabilityStatement, answered without a token. */
import { fhirHandler } from './fhir/http';
import { capabilityStatement } from './fhir/resources';

const statement = capabilityStatement();

export const handler = fhirHandler('fhir-metadata', async () => statement);
