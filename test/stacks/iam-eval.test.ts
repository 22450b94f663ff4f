/** The IAM evaluator the stack tests prove least privilege with: its reading of conditions. */
import type { Statement } from './helpers';
import { conditionVerdict, glob, mayPerform } from './iam-eval';

const AUDIT = 'AUDIT#9990000018';
const CHILD = 'CHILD#9990000018';
const put = 'dynamodb:PutItem';
const allow = (Condition?: Statement['Condition']): Statement => ({
  Effect: 'Allow',
  Action: [put, 'dynamodb:Query'],
  Resource: 'arn:aws:dynamodb:eu-west-2:111111111111:table/t',
  ...(Condition ? { Condition } : {}),
});
const auditOnly = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AUDIT#*'] } };
const present = { Null: { 'dynamodb:LeadingKeys': 'false' } };

describe('iam-eval', () => {
  it('an unconditioned Allow grants its actions on any key; action names match case-insensitively', () => {
    expect(mayPerform([allow()], put, { leadingKeys: [CHILD] })).toBe(true);
    expect(mayPerform([allow()], 'DynamoDB:putitem', { leadingKeys: [CHILD] })).toBe(true);
    expect(mayPerform([allow()], 'dynamodb:DeleteItem', { leadingKeys: [CHILD] })).toBe(false);
  });

  it('ForAllValues:StringLike on LeadingKeys: every key must match, and an empty set matches (as in IAM)', () => {
    const statements = [allow(auditOnly)];
    expect(mayPerform(statements, put, { leadingKeys: [AUDIT] })).toBe(true);
    expect(mayPerform(statements, put, { leadingKeys: [CHILD] })).toBe(false);
    expect(mayPerform(statements, put, { leadingKeys: [AUDIT, CHILD] })).toBe(false);
    expect(mayPerform(statements, put, { leadingKeys: [] })).toBe(true);
    // StringLike is case-sensitive: another partition altogether.
    expect(mayPerform(statements, put, { leadingKeys: ['audit#9990000018'] })).toBe(false);
  });

  it('Null "false" beside it requires a leading key, closing the empty set', () => {
    const statements = [allow({ ...auditOnly, ...present })];
    expect(mayPerform(statements, put, { leadingKeys: [AUDIT] })).toBe(true);
    expect(mayPerform(statements, put, { leadingKeys: [] })).toBe(false);
    expect(conditionVerdict({ Null: { 'dynamodb:LeadingKeys': 'true' } }, { leadingKeys: [] })).toBe(true);
    expect(conditionVerdict({ Null: { 'dynamodb:LeadingKeys': 'true' } }, { leadingKeys: [AUDIT] })).toBe(
      false,
    );
  });

  it('an Allow whose condition it cannot read still counts (it might apply)', () => {
    const unknown = allow({ StringEquals: { 'aws:SourceVpc': 'vpc-1' } });
    expect(mayPerform([unknown], put, { leadingKeys: [CHILD] })).toBe(true);
    // ... unless another condition of the same statement is certainly false.
    const mixed = allow({ StringEquals: { 'aws:SourceVpc': 'vpc-1' }, ...auditOnly });
    expect(mayPerform([mixed], put, { leadingKeys: [CHILD] })).toBe(false);
    expect(conditionVerdict(mixed.Condition, { leadingKeys: [AUDIT] })).toBeUndefined();
  });

  it('a Deny counts only when it certainly applies: Resource "*" and a condition found true', () => {
    const deny = (Condition: Statement['Condition'], Resource: unknown = '*'): Statement => ({
      Effect: 'Deny',
      Action: put,
      Resource,
      Condition,
    });
    const anyAudit = { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': ['AUDIT#*'] } };
    expect(mayPerform([allow(), deny(anyAudit)], put, { leadingKeys: [CHILD, AUDIT] })).toBe(false);
    expect(mayPerform([allow(), deny(anyAudit)], put, { leadingKeys: [CHILD] })).toBe(true);
    // ForAnyValue is false on an empty set.
    expect(mayPerform([allow(), deny(anyAudit)], put, { leadingKeys: [] })).toBe(true);
    expect(
      mayPerform([allow(), deny(anyAudit, 'arn:aws:dynamodb:*:*:table/t')], put, { leadingKeys: [AUDIT] }),
    ).toBe(true);
    expect(
      mayPerform([allow(), deny({ StringEquals: { 'aws:SourceVpc': 'vpc-1' } })], put, {
        leadingKeys: [AUDIT],
      }),
    ).toBe(true);
  });

  it('glob matches whole strings, case-insensitively unless told', () => {
    expect(glob('AUDIT#*').test('audit#1')).toBe(true);
    expect(glob('AUDIT#*', false).test('audit#1')).toBe(false);
    expect(glob('AUDIT#*', false).test('xAUDIT#1')).toBe(false);
    expect(glob('a?c', false).test('abc')).toBe(true);
  });
});
