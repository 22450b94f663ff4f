/**
 * A deliberately conservative reading of IAM statements, enough to prove what a role can NOT do:
 * an Allow counts unless a condition this evaluator understands is certainly false for the request
 * (an Allow it cannot read might apply), and a Deny counts only when it certainly applies (Resource
 * "*" and every condition understood and true). Resources of Allows are not read at all.
 *
 * Conditions understood: on `dynamodb:LeadingKeys` (the partition keys a DynamoDB request touches; an
 * empty list means the request has none, which IAM treats as the key being absent), the operators
 * `ForAnyValue:StringLike`, `ForAllValues:StringLike` and `Null`, with IAM's set semantics:
 * ForAnyValue is false on an empty set, ForAllValues is TRUE on an empty set (hence the Null check
 * beside it). StringLike compares case-sensitively, as IAM does; action names match case-insensitively.
 */
import { asArray, type Statement } from './helpers';

/** An IAM wildcard pattern (`*`, `?`) as a whole-string RegExp (case-insensitive unless told). */
export const glob = (pattern: string, ignoreCase = true) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    ignoreCase ? 'i' : '',
  );

const actionMatches = (statement: Statement, action: string) =>
  asArray(statement.Action).some((pattern) => glob(pattern).test(action));

/** The request context this evaluator understands: the partition keys a DynamoDB request touches. */
export interface RequestContext {
  leadingKeys: string[];
}

/** true or false when this evaluator can decide the condition entry, undefined when it cannot. */
type Verdict = boolean | undefined;

function entryVerdict(operator: string, key: string, values: unknown, request: RequestContext): Verdict {
  if (key !== 'dynamodb:LeadingKeys') return undefined;
  const patterns = asArray(values as string | string[]).map(String);
  const like = (leadingKey: string) => patterns.some((pattern) => glob(pattern, false).test(leadingKey));
  const keys = request.leadingKeys;
  switch (operator) {
    case 'ForAnyValue:StringLike':
      return keys.some(like);
    case 'ForAllValues:StringLike':
      return keys.every(like);
    case 'Null':
      // "true": the key must be absent; "false": present. Several values: any of them.
      return patterns.some((expected) => (expected === 'true') === (keys.length === 0));
    default:
      return undefined;
  }
}

/** Every operator and key of a Condition block must hold (IAM ANDs them). */
export function conditionVerdict(condition: Statement['Condition'], request: RequestContext): Verdict {
  if (!condition) return true;
  let verdict: Verdict = true;
  for (const [operator, entries] of Object.entries(condition)) {
    for (const [key, values] of Object.entries(entries)) {
      const entry = entryVerdict(operator, key, values, request);
      if (entry === false) return false;
      if (entry === undefined) verdict = undefined;
    }
  }
  return verdict;
}

/** True when some Allow may grant the action and no Deny certainly refuses it. */
export function mayPerform(
  statements: readonly Statement[],
  action: string,
  request: RequestContext,
): boolean {
  const allowed = statements.some(
    (s) =>
      s.Effect === 'Allow' && actionMatches(s, action) && conditionVerdict(s.Condition, request) !== false,
  );
  const denied = statements.some(
    (s) =>
      s.Effect === 'Deny' &&
      actionMatches(s, action) &&
      asArray(s.Resource).includes('*') &&
      conditionVerdict(s.Condition, request) === true,
  );
  return allowed && !denied;
}
