import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface Acknowledgement {
  /** cdk-nag rule id, with the finding in brackets when the rule reports several (IAM5). */
  id: string;
  /** Why the finding is acceptable here: read by security reviewers, so it must say why. */
  reason: string;
}

export const MIN_REASON_LENGTH = 40;

/**
 * Acknowledges cdk-nag findings on one construct (and its children) with a written reason. Refuses a
 * missing or perfunctory reason, so no finding is ever silenced without an explanation.
 */
export function acknowledge(scope: IConstruct, ...rules: Acknowledgement[]): void {
  for (const rule of rules) {
    if (rule.reason.trim().length < MIN_REASON_LENGTH) {
      throw new Error(`The acknowledgement of ${rule.id} on ${scope.node.path} needs a written reason`);
    }
  }
  Validations.of(scope).acknowledge(...rules);
}
