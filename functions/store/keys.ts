/**
 * The table's key design: the only module that spells keys.
 *
 * | item              | PK                 | SK                          | notes                                   |
 * |-------------------|--------------------|-----------------------------|-----------------------------------------|
 * | plan pointer      | CHILD#<nhs>        | PLAN#<council>#<planType>   | GSI1: COUNCIL#<council> / <nhs>#<type>  |
 * | status            | CHILD#<nhs>        | STATUS                      | sensitive flag; newNhsNumber once       |
 * |                   |                    |                             | superseded; replaces: numbers it took   |
 * |                   |                    |                             | over                                    |
 * | council           | COUNCIL#<code>     | PROFILE                     | GSI1: COUNCILS / <code>                 |
 * | audit event       | AUDIT#<subject>    | EVENT#<at>#<id>             | append-only                             |
 * | access (B0107)    | AUDIT#<nhs>        | ACCESS#<at>#<id>            | append-only: a notifying lookup's audit |
 * |                   |                    |                             | event, shown in previousAccesses        |
 *
 * Accesses sort apart from other audit events so that the access history is one short Query; the
 * status item is shared by sensitivity and supersession so that a plan write guards both with one
 * ConditionCheck (docs/adr/0009, 0010).
 */
import { PLAN_TYPES } from '../core/plans';
import { tableDefinition } from './table-definition';

export const GSI1 = tableDefinition.indexes[0].name;
/** Sort-key prefix of a child's plan items. */
export const PLAN_RANGE = 'PLAN#';
/** Sort-key prefixes of the two ranges of an audit partition: accesses, and every other event. */
export const ACCESS_RANGE = 'ACCESS#';
export const EVENT_RANGE = 'EVENT#';
export const AUDIT_RANGES = [ACCESS_RANGE, EVENT_RANGE] as const;
export const SK_PROFILE = 'PROFILE';
export const SK_STATUS = 'STATUS';

const CHILD_PREFIX = 'CHILD#';
const COUNCIL_PREFIX = 'COUNCIL#';

export interface ItemKey {
  PK: string;
  SK: string;
}

export const keys = {
  child: (nhsNumber: string) => `${CHILD_PREFIX}${nhsNumber}`,
  plan: (councilCode: string, planType: string) => `${PLAN_RANGE}${councilCode}#${planType}`,
  council: (code: string) => `${COUNCIL_PREFIX}${code}`,
  audit: (subject: string) => `${tableDefinition.auditKeyPrefix}${subject}`,
  /** A subject's coalesced refusals (one item per caller per minute, with a count). */
  refusals: (subject: string) => `${tableDefinition.refusalKeyPrefix}${subject}`,
  auditEvent: (at: string, id: string) => `${EVENT_RANGE}${at}#${id}`,
  auditAccess: (at: string, id: string) => `${ACCESS_RANGE}${at}#${id}`,
  councilPlans: (code: string) => `${COUNCIL_PREFIX}${code}`,
  councilPlan: (nhsNumber: string, planType: string) => `${nhsNumber}#${planType}`,
  /** GSI1 partition listing every council's profile (codes as sort keys). */
  councilDirectory: 'COUNCILS',
} as const;

export const planKey = (nhsNumber: string, councilCode: string, planType: string): ItemKey => ({
  PK: keys.child(nhsNumber),
  SK: keys.plan(councilCode, planType),
});
export const statusKey = (nhsNumber: string): ItemKey => ({ PK: keys.child(nhsNumber), SK: SK_STATUS });
export const councilKey = (code: string): ItemKey => ({ PK: keys.council(code), SK: SK_PROFILE });

/**
 * A council's plan's place in its GSI1 partition (`<nhs>#<planType>`, the index sort key), and the full
 * key DynamoDB takes to resume a Query of that index after it: the index's keys and the table's.
 */
export const councilPlanIndexKey = (councilCode: string, position: string): Record<string, string> => {
  const [nhsNumber, planType] = position.split('#') as [string, string];
  return {
    GSI1PK: keys.councilPlans(councilCode),
    GSI1SK: position,
    ...planKey(nhsNumber, councilCode, planType),
  };
};

/** True when the string could be a council plan's position (guards cursors decoded from clients). */
const COUNCIL_PLAN_POSITION = new RegExp(`^\\d{10}#(${PLAN_TYPES.join('|')})$`);
export function isCouncilPlanPosition(value: string): boolean {
  return COUNCIL_PLAN_POSITION.test(value);
}

/** The NHS number of a child partition key. */
export const nhsNumberOf = (childKey: string): string => childKey.slice(CHILD_PREFIX.length);

/** An audit event's position in its partition (`<at>#<id>`), from its sort key. */
export const auditPosition = (sk: string): string => sk.slice(sk.indexOf('#') + 1);

/** True when the string could be an audit event's position (guards cursors decoded from clients). */
export function isAuditPosition(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[0-9A-Z]{26}$/.test(value);
}
