/**
 * A reading of synthesized WAF rules, enough for the stack tests to ask what AWS WAF would do with a
 * request: which rate-based rules count it (scope-down statements) and under which aggregation key,
 * and, given which of them find its key over their limit, which labels it gets and which rule answers.
 * It knows the statements, fields and text transformations the web ACL uses and throws on anything
 * else, so that a rule it cannot read fails the test instead of passing it.
 */

export interface WafRequest {
  method: string;
  /** The path as sent, percent-encoding and all (WAF's UriPath field). */
  uriPath: string;
  /** By lower-case name (WAF matches header names case-insensitively). */
  headers: Record<string, string>;
  sourceIp: string;
}

export interface TextTransformation {
  Priority: number;
  Type: string;
}

export type WafStatement = Record<string, any>;

function urlDecode(value: string): string {
  return value.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** WAF's NORMALIZE_PATH: repeated slashes, `/./` and `/../` (not at the start) removed. */
function normalizePath(value: string): string {
  const segments: string[] = [];
  for (const segment of value.replace(/\/{2,}/g, '/').split('/')) {
    if (segment === '.') continue;
    if (segment === '..' && segments.length > 1) segments.pop();
    else segments.push(segment);
  }
  return segments.join('/');
}

const TRANSFORMATIONS: Record<string, (value: string) => string> = {
  NONE: (value) => value,
  LOWERCASE: (value) => value.toLowerCase(),
  // \f, \t, \n, \r, \v and non-breaking spaces become spaces; runs of spaces become one.
  COMPRESS_WHITE_SPACE: (value) => value.replace(/[\f\t\n\r\v\u00a0 ]+/g, ' '),
  URL_DECODE: urlDecode,
  NORMALIZE_PATH: normalizePath,
};

/** Applies the transformations in priority order, as WAF does. */
export function transform(value: string, transformations: readonly TextTransformation[]): string {
  return [...transformations]
    .sort((a, b) => a.Priority - b.Priority)
    .reduce((current, { Type }) => {
      const apply = TRANSFORMATIONS[Type];
      if (!apply) throw new Error(`waf-eval does not know the text transformation ${Type}`);
      return apply(current);
    }, value);
}

function field(fieldToMatch: WafStatement, request: WafRequest): string | undefined {
  if (fieldToMatch.Method) return request.method;
  if (fieldToMatch.UriPath) return request.uriPath;
  if (fieldToMatch.SingleHeader) return request.headers[String(fieldToMatch.SingleHeader.Name).toLowerCase()];
  throw new Error(`waf-eval does not know the field ${JSON.stringify(fieldToMatch)}`);
}

/**
 * True when the statement (a rule's or a scope-down's) matches the request, which carries the labels
 * of the rules evaluated before it; none matches everything.
 */
export function statementMatches(
  statement: WafStatement | undefined,
  request: WafRequest,
  labels: readonly string[] = [],
): boolean {
  if (!statement) return true;
  if (statement.AndStatement)
    return (statement.AndStatement.Statements as WafStatement[]).every((s) =>
      statementMatches(s, request, labels),
    );
  if (statement.OrStatement)
    return (statement.OrStatement.Statements as WafStatement[]).some((s) =>
      statementMatches(s, request, labels),
    );
  if (statement.NotStatement) return !statementMatches(statement.NotStatement.Statement, request, labels);
  if (statement.LabelMatchStatement) {
    const { Scope, Key } = statement.LabelMatchStatement;
    if (Scope !== 'LABEL') throw new Error(`waf-eval does not know the label scope ${Scope}`);
    // A key names the label, optionally with some of its namespaces before it.
    return labels.some((label) => label === Key || label.endsWith(`:${Key}`));
  }
  const match = statement.ByteMatchStatement ?? statement.RegexMatchStatement;
  if (!match) throw new Error(`waf-eval does not know the statement ${JSON.stringify(statement)}`);
  const raw = field(match.FieldToMatch, request);
  if (raw === undefined) return false;
  const value = transform(raw, match.TextTransformations);
  if (statement.RegexMatchStatement) return new RegExp(match.RegexString).test(value);
  const search = String(match.SearchString);
  switch (match.PositionalConstraint) {
    case 'EXACTLY':
      return value === search;
    case 'STARTS_WITH':
      return value.startsWith(search);
    case 'ENDS_WITH':
      return value.endsWith(search);
    case 'CONTAINS':
      return value.includes(search);
    default:
      throw new Error(`waf-eval does not know the constraint ${match.PositionalConstraint}`);
  }
}

/**
 * The key a rate-based statement counts the request under, or undefined when it does not count it
 * (outside its scope-down, or missing a component of its custom key, which WAF then does not count).
 */
export function rateKey(
  rateBased: WafStatement,
  request: WafRequest,
  labels: readonly string[] = [],
): string | undefined {
  if (!statementMatches(rateBased.ScopeDownStatement, request, labels)) return undefined;
  switch (rateBased.AggregateKeyType) {
    case 'IP':
      return `ip:${request.sourceIp}`;
    case 'CONSTANT':
      return 'constant';
    case 'CUSTOM_KEYS': {
      const parts: string[] = [];
      for (const key of rateBased.CustomKeys as WafStatement[]) {
        if (key.Header) {
          const value = request.headers[String(key.Header.Name).toLowerCase()];
          if (value === undefined) return undefined;
          parts.push(`header:${transform(value, key.Header.TextTransformations)}`);
        } else if (key.IP) {
          parts.push(`ip:${request.sourceIp}`);
        } else if (key.HTTPMethod) {
          parts.push(`method:${request.method}`);
        } else if (key.UriPath) {
          parts.push(`path:${transform(request.uriPath, key.UriPath.TextTransformations)}`);
        } else {
          throw new Error(`waf-eval does not know the custom key ${JSON.stringify(key)}`);
        }
      }
      return JSON.stringify(parts);
    }
    default:
      throw new Error(`waf-eval does not know the aggregation ${rateBased.AggregateKeyType}`);
  }
}

export interface WafRule {
  Name: string;
  Priority: number;
  Statement: WafStatement;
  Action?: WafStatement;
  OverrideAction?: WafStatement;
  RuleLabels?: { Name: string }[];
}

export interface WafVerdict {
  /** The rule that allowed or blocked the request; undefined when the default action (allow) did. */
  rule?: string;
  blocked: boolean;
  /** A block's custom response: status, body key and headers. */
  response?: { status: number; bodyKey?: string; headers: Record<string, string> };
  labels: string[];
}

/** WAF qualifies a rule's label with the web ACL's namespace. */
const LABEL_NAMESPACE = 'awswaf:111122223333:webacl:test:';

/**
 * What the web ACL does with a request: its rules in priority order, a rate-based rule matching when
 * it counts the request and is named in `overLimit` (its key over the limit in the window). Managed
 * rule groups are taken to match nothing: their rules are AWS's, not this project's.
 */
export function evaluate(
  rules: readonly WafRule[],
  request: WafRequest,
  overLimit: ReadonlySet<string>,
): WafVerdict {
  const labels: string[] = [];
  for (const rule of [...rules].sort((a, b) => a.Priority - b.Priority)) {
    if (rule.Statement.ManagedRuleGroupStatement) continue;
    const rateBased = rule.Statement.RateBasedStatement;
    const matches = rateBased
      ? rateKey(rateBased, request, labels) !== undefined && overLimit.has(rule.Name)
      : statementMatches(rule.Statement, request, labels);
    if (!matches) continue;
    labels.push(...(rule.RuleLabels ?? []).map((label) => `${LABEL_NAMESPACE}${label.Name}`));
    const action = rule.Action ?? {};
    if (action.Count) continue;
    if (action.Allow) return { rule: rule.Name, blocked: false, labels };
    if (action.Block) {
      const custom = action.Block.CustomResponse;
      return {
        rule: rule.Name,
        blocked: true,
        response: custom && {
          status: custom.ResponseCode,
          bodyKey: custom.CustomResponseBodyKey,
          headers: Object.fromEntries(
            (custom.ResponseHeaders ?? []).map((h: { Name: string; Value: string }) => [h.Name, h.Value]),
          ),
        },
        labels,
      };
    }
    throw new Error(`waf-eval does not know the action of ${rule.Name}: ${JSON.stringify(action)}`);
  }
  return { blocked: false, labels };
}
