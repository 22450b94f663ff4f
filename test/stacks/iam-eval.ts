/**
 * A deliberately conservative reading of IAM statements, enough to prove what a role can NOT do:
 * an Allow counts whatever its resource and conditions (it might apply), a Deny counts only when it
 * certainly applies (Resource "*" and a condition this evaluator understands and finds true).
 */
import { asArray, type Statement } from './helpers';

/** An IAM wildcard pattern (`*`, `?`) as a whole-string, case-insensitive RegExp. */
export const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );

const actionMatches = (statement: Statement, action: string) =>
  asArray(statement.Action).some((pattern) => glob(pattern).test(action));

/** The request context this evaluator understands: the partition keys a DynamoDB request touches. */
export interface RequestContext {
  leadingKeys: string[];
}

function denyConditionCertainlyHolds(condition: Statement['Condition'], request: RequestContext): boolean {
  if (!condition) return true;
  return Object.entries(condition).every(([operator, entries]) =>
    Object.entries(entries).every(([key, values]) => {
      if (operator !== 'ForAnyValue:StringLike' || key !== 'dynamodb:LeadingKeys') return false;
      return request.leadingKeys.some((leadingKey) =>
        asArray(values as string | string[]).some((pattern) => glob(pattern).test(leadingKey)),
      );
    }),
  );
}

/** True when some Allow may grant the action and no Deny certainly refuses it. */
export function mayPerform(
  statements: readonly Statement[],
  action: string,
  request: RequestContext,
): boolean {
  const allowed = statements.some((s) => s.Effect === 'Allow' && actionMatches(s, action));
  const denied = statements.some(
    (s) =>
      s.Effect === 'Deny' &&
      actionMatches(s, action) &&
      asArray(s.Resource).includes('*') &&
      denyConditionCertainlyHolds(s.Condition, request),
  );
  return allowed && !denied;
}
