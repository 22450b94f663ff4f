/**
 * Checks a council message before the dispatch function sends it, with validators compiled from the
 * message schemas (docs/adr/0059): what core/council-messages.ts accepts, without loading zod at the
 * dispatch function's cold start. test/unit/council-message-check.test.ts holds the two to the same
 * answers.
 */
import type { CouncilMessage } from '../core/council-messages';
import * as compiled from './council-message-validators.generated';

/** What is wrong with a message: where (a schema path, never a value) and which rule it broke. */
export interface MessageIssue {
  path: string;
  code: string;
}

interface CompiledError {
  instancePath: string;
  keyword: string;
  params: { missingProperty?: string };
}
type CompiledValidator = ((value: unknown) => boolean) & { errors?: CompiledError[] | null };

const VALIDATORS: Readonly<Record<CouncilMessage['type'], CompiledValidator>> = {
  ChildRecordAccessed: compiled.ChildRecordAccessed,
  NhsNumberSuperseded: compiled.NhsNumberSuperseded,
};

/** `/accessedBy/userId` as `accessedBy.userId`; a missing property's name is the schema's, not the input's. */
function issueOf(error: CompiledError): MessageIssue {
  const path = error.instancePath.split('/').slice(1);
  if (error.keyword === 'required' && error.params.missingProperty) path.push(error.params.missingProperty);
  return { path: path.join('.'), code: error.keyword };
}

export type MessageCheck = { message: CouncilMessage; issues?: undefined } | { issues: MessageIssue[] };

export function checkCouncilMessage(candidate: unknown): MessageCheck {
  if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate))
    return { issues: [{ path: '', code: 'type' }] };
  const { type } = candidate as { type?: unknown };
  if (typeof type !== 'string' || !Object.hasOwn(VALIDATORS, type))
    return { issues: [{ path: 'type', code: 'discriminator' }] };
  const validate = VALIDATORS[type as CouncilMessage['type']];
  if (validate(candidate)) return { message: candidate as CouncilMessage };
  return { issues: (validate.errors ?? []).map(issueOf) };
}
