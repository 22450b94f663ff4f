/**
 * Domain errors: what a use case refuses, in the domain's words. The HTTP layer maps each to the
 * contract's status and code (functions/http/domain-errors.ts); nothing here knows about HTTP.
 */

export type WriteConflictReason =
  | 'VERSION'
  | 'COUNCIL_NOT_REGISTERED'
  | 'SUPERSEDED'
  | 'SENSITIVE'
  | 'NOT_FOUND';

/** A write refused by the state of the table; `reason` says which condition. */
export class WriteConflict extends Error {
  constructor(
    readonly reason: WriteConflictReason,
    readonly supersededBy?: string,
    /** The council the write was for, when the answer names it. */
    readonly councilCode?: string,
  ) {
    super(`write refused: ${reason}`);
    this.name = 'WriteConflict';
  }
}

/** One write of a batch refused by a condition; `applied` lists the indexes of the writes that landed. */
export class PlanWriteConflict extends WriteConflict {
  applied: readonly number[] = [];

  constructor(
    conflict: WriteConflict,
    readonly writeIndex: number,
  ) {
    super(conflict.reason, conflict.supersededBy, conflict.councilCode);
    this.name = 'PlanWriteConflict';
  }
}

export type RuleKind = 'INVALID_INPUT' | 'CONFLICT' | 'NOT_FOUND' | 'SNAPSHOT_GUARD' | 'TOO_MANY_RECORDS';

export interface RuleDetail {
  field: string;
  message: string;
}

/** A request the domain's rules refuse, with a message a person can act on. */
export class RuleViolation extends Error {
  constructor(
    readonly kind: RuleKind,
    message: string,
    readonly details?: RuleDetail[],
  ) {
    super(message);
    this.name = 'RuleViolation';
  }
}

export const invalidInput = (message: string, field?: string) =>
  new RuleViolation('INVALID_INPUT', message, field ? [{ field, message }] : undefined);
