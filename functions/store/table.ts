/**
 * The single DynamoDB table: the only module that knows its key design.
 *
 * | item              | PK                 | SK                              | notes                                 |
 * |-------------------|--------------------|---------------------------------|---------------------------------------|
 * | plan pointer      | CHILD#<nhs>        | PLAN#<council>#<planType>       | GSI1: COUNCIL#<council> / <nhs>#<type> |
 * | access (B0107)    | CHILD#<nhs>        | ACCESS#<at>#<id>                | shown in previousAccesses             |
 * | sensitivity flag  | CHILD#<nhs>        | SENSITIVITY                     |                                       |
 * | supersession      | CHILD#<old nhs>    | SUPERSEDED                      | points at the replacement             |
 * | council           | COUNCIL#<code>     | PROFILE                         | name and phones                       |
 * | audit event       | AUDIT#<subject>    | EVENT#<at>#<id>                 | append-only                           |
 * | outbox message    | OUTBOX#<id>        | MESSAGE                         | streamed to the dispatch function     |
 *
 * In a child's partition the SK order is ACCESS# < PLAN# < SENSITIVITY < SUPERSEDED, so one Query read
 * backwards returns the markers, then the plans, then the accesses newest first: a lookup reads one
 * partition and stops after the 25th access.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { tableName } from '../config';
import { MAX_PREVIOUS_ACCESSES, recentAccesses } from '../core/access-history';
import type { PlanType } from '../core/plans';
import type {
  AuditAction,
  AuditEvent,
  AuditOutcome,
  Claims,
  Council,
  CouncilMessage,
  PreviousAccess,
} from '../core/schemas';
import { newId } from './ids';

export const GSI1 = 'GSI1';
/** Outbox items outlive any stream retry window, then TTL removes them. */
const OUTBOX_TTL_SECONDS = 7 * 24 * 3600;

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

export const keys = {
  child: (nhsNumber: string) => `CHILD#${nhsNumber}`,
  plan: (councilCode: string, planType: string) => `PLAN#${councilCode}#${planType}`,
  access: (at: string, id: string) => `ACCESS#${at}#${id}`,
  council: (code: string) => `COUNCIL#${code}`,
  audit: (subject: string) => `AUDIT#${subject}`,
  auditEvent: (at: string, id: string) => `EVENT#${at}#${id}`,
  outbox: (id: string) => `OUTBOX#${id}`,
  councilPlans: (code: string) => `COUNCIL#${code}`,
  councilPlan: (nhsNumber: string, planType: string) => `${nhsNumber}#${planType}`,
} as const;

export const SK_PROFILE = 'PROFILE';
export const SK_SENSITIVITY = 'SENSITIVITY';
export const SK_SUPERSEDED = 'SUPERSEDED';
export const SK_MESSAGE = 'MESSAGE';
export const AUDIT_PREFIX = 'AUDIT#';
export const OUTBOX_PREFIX = 'OUTBOX#';

export interface StoredPlan {
  nhsNumber: string;
  planType: PlanType;
  councilCode: string;
  startDate: string;
  endDate: string | null;
  version: number;
}

export interface ChildView {
  plans: StoredPlan[];
  /** Newest first, at most MAX_PREVIOUS_ACCESSES. */
  accesses: PreviousAccess[];
  supersededBy?: string;
  sensitive: boolean;
}

export interface AuditEntry {
  subject: string;
  action: AuditAction;
  outcome: AuditOutcome;
  actor: Pick<Claims, 'sub' | 'name' | 'org' | 'role'>;
  at: string;
  planType?: PlanType;
  councilCode?: string;
}

/** A write refused by one of its conditions; `reason` says which. */
export class WriteConflict extends Error {
  constructor(
    readonly reason: 'VERSION' | 'COUNCIL_NOT_REGISTERED' | 'SUPERSEDED' | 'SENSITIVE' | 'NOT_FOUND',
    readonly supersededBy?: string,
  ) {
    super(`write refused: ${reason}`);
    this.name = 'WriteConflict';
  }
}

function auditItem(entry: AuditEntry) {
  const eventId = newId();
  return {
    PK: keys.audit(entry.subject),
    SK: keys.auditEvent(entry.at, eventId),
    kind: 'AUDIT',
    eventId,
    at: entry.at,
    action: entry.action,
    outcome: entry.outcome,
    actor: { sub: entry.actor.sub, name: entry.actor.name, org: entry.actor.org, role: entry.actor.role },
    planType: entry.planType,
    councilCode: entry.councilCode,
  };
}

function auditPut(entry: AuditEntry) {
  return {
    Put: {
      TableName: tableName(),
      Item: auditItem(entry),
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

function outboxPut(message: CouncilMessage, nowEpochSeconds: number) {
  return {
    Put: {
      TableName: tableName(),
      Item: {
        PK: keys.outbox(message.eventId),
        SK: SK_MESSAGE,
        kind: 'OUTBOX',
        councilCode: message.councilCode,
        message,
        expiresAt: nowEpochSeconds + OUTBOX_TTL_SECONDS,
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

function toPlan(item: Record<string, unknown>): StoredPlan {
  return {
    nhsNumber: item.nhsNumber as string,
    planType: item.planType as PlanType,
    councilCode: item.councilCode as string,
    startDate: item.startDate as string,
    endDate: (item.endDate as string | undefined) ?? null,
    version: item.version as number,
  };
}

function toCouncil(item: Record<string, unknown>): Council {
  return {
    code: item.code as string,
    name: item.name as string,
    officeHoursPhone: (item.officeHoursPhone as string | undefined) ?? null,
    emergencyDutyPhone: item.emergencyDutyPhone as string,
  };
}

function planItem(plan: StoredPlan, updatedAt: string) {
  return {
    PK: keys.child(plan.nhsNumber),
    SK: keys.plan(plan.councilCode, plan.planType),
    kind: 'PLAN',
    nhsNumber: plan.nhsNumber,
    planType: plan.planType,
    councilCode: plan.councilCode,
    startDate: plan.startDate,
    endDate: plan.endDate ?? undefined,
    version: plan.version,
    updatedAt,
    GSI1PK: keys.councilPlans(plan.councilCode),
    GSI1SK: keys.councilPlan(plan.nhsNumber, plan.planType),
  };
}

/** Markers, plans and the most recent accesses of one NHS number, from one backwards Query. */
export async function readChild(nhsNumber: string): Promise<ChildView> {
  const view: ChildView = { plans: [], accesses: [], sensitive: false };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await client.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.child(nhsNumber) },
        ScanIndexForward: false,
        Limit: MAX_PREVIOUS_ACCESSES + 16,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const sk = item.SK as string;
      if (sk === SK_SUPERSEDED) view.supersededBy = item.newNhsNumber as string;
      else if (sk === SK_SENSITIVITY) view.sensitive = item.sensitive === true;
      else if (sk.startsWith('PLAN#')) view.plans.push(toPlan(item));
      else if (sk.startsWith('ACCESS#') && view.accesses.length < MAX_PREVIOUS_ACCESSES) {
        view.accesses.push({
          accessedAt: item.accessedAt as string,
          userId: item.userId as string,
          userName: item.userName as string,
          organisation: item.organisation as string,
          setting: (item.setting as string | undefined) ?? null,
        });
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey && view.accesses.length < MAX_PREVIOUS_ACCESSES);
  view.accesses = recentAccesses(view.accesses);
  return view;
}

/** Councils by code, in one batch read (retrying any keys DynamoDB leaves unprocessed). */
export async function getCouncils(codes: readonly string[]): Promise<Map<string, Council>> {
  const found = new Map<string, Council>();
  const unique = [...new Set(codes)];
  for (let i = 0; i < unique.length; i += 100) {
    let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = {
      [tableName()]: {
        Keys: unique.slice(i, i + 100).map((code) => ({ PK: keys.council(code), SK: SK_PROFILE })),
      },
    };
    for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
      if (attempt > 0) await backoff(attempt);
      const result = await client.send(new BatchGetCommand({ RequestItems: request }));
      for (const item of result.Responses?.[tableName()] ?? [])
        found.set(item.code as string, toCouncil(item));
      request = result.UnprocessedKeys as typeof request;
    }
  }
  return found;
}

export async function getCouncil(code: string): Promise<Council | undefined> {
  return (await getCouncils([code])).get(code);
}

/** Stores a council's directory entry; returns false (and writes nothing) when it is already so. */
export async function putCouncil(council: Council, audit: AuditEntry): Promise<boolean> {
  const existing = await getCouncil(council.code);
  if (
    existing &&
    existing.name === council.name &&
    existing.officeHoursPhone === council.officeHoursPhone &&
    existing.emergencyDutyPhone === council.emergencyDutyPhone
  ) {
    return false;
  }
  await transact([
    {
      Put: {
        TableName: tableName(),
        Item: {
          PK: keys.council(council.code),
          SK: SK_PROFILE,
          kind: 'COUNCIL',
          code: council.code,
          name: council.name,
          officeHoursPhone: council.officeHoursPhone ?? undefined,
          emergencyDutyPhone: council.emergencyDutyPhone,
          updatedAt: audit.at,
        },
      },
    },
    auditPut(audit),
  ]);
  return true;
}

export interface PlanWriteContext {
  plan?: StoredPlan;
  councilRegistered: boolean;
  supersededBy?: string;
  sensitive: boolean;
}

/** What a plan write depends on: the plan itself, the council, and the NHS number's markers. */
export async function readPlanWriteContext(
  councilCode: string,
  nhsNumber: string,
  planType: PlanType,
): Promise<PlanWriteContext> {
  const wanted = [
    { PK: keys.child(nhsNumber), SK: keys.plan(councilCode, planType) },
    { PK: keys.child(nhsNumber), SK: SK_SUPERSEDED },
    { PK: keys.child(nhsNumber), SK: SK_SENSITIVITY },
    { PK: keys.council(councilCode), SK: SK_PROFILE },
  ];
  const context: PlanWriteContext = { councilRegistered: false, sensitive: false };
  let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = {
    [tableName()]: { Keys: wanted, ConsistentRead: true },
  };
  for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
    if (attempt > 0) await backoff(attempt);
    const result = await client.send(new BatchGetCommand({ RequestItems: request }));
    for (const item of result.Responses?.[tableName()] ?? []) {
      const sk = item.SK as string;
      if (sk === SK_PROFILE) context.councilRegistered = true;
      else if (sk === SK_SUPERSEDED) context.supersededBy = item.newNhsNumber as string;
      else if (sk === SK_SENSITIVITY) context.sensitive = item.sensitive === true;
      else context.plan = toPlan(item);
    }
    request = result.UnprocessedKeys as typeof request;
  }
  return context;
}

function planGuards(councilCode: string, nhsNumber: string) {
  return [
    {
      ConditionCheck: {
        TableName: tableName(),
        Key: { PK: keys.council(councilCode), SK: SK_PROFILE },
        ConditionExpression: 'attribute_exists(PK)',
      },
    },
    {
      ConditionCheck: {
        TableName: tableName(),
        Key: { PK: keys.child(nhsNumber), SK: SK_SUPERSEDED },
        ConditionExpression: 'attribute_not_exists(PK)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    },
    {
      ConditionCheck: {
        TableName: tableName(),
        Key: { PK: keys.child(nhsNumber), SK: SK_SENSITIVITY },
        ConditionExpression: 'attribute_not_exists(PK) OR #sensitive <> :true',
        ExpressionAttributeNames: { '#sensitive': 'sensitive' },
        ExpressionAttributeValues: { ':true': true },
      },
    },
  ];
}

const GUARD_REASONS = ['COUNCIL_NOT_REGISTERED', 'SUPERSEDED', 'SENSITIVE'] as const;

/**
 * Creates or replaces a plan, and audits it, in one transaction. `expectedVersion` undefined means the
 * plan must not exist yet. Fails with WriteConflict when the plan moved on or a guard no longer holds.
 */
export async function writePlan(plan: StoredPlan, expectedVersion: number | undefined, audit: AuditEntry) {
  const condition =
    expectedVersion === undefined
      ? { ConditionExpression: 'attribute_not_exists(PK)' }
      : {
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': expectedVersion },
        };
  await transact([
    { Put: { TableName: tableName(), Item: planItem(plan, audit.at), ...condition } },
    ...planGuards(plan.councilCode, plan.nhsNumber),
    auditPut(audit),
  ]);
}

/** Removes a plan entered in error, auditing it in the same transaction. */
export async function deletePlan(plan: StoredPlan, audit: AuditEntry) {
  await transact([
    {
      Delete: {
        TableName: tableName(),
        Key: { PK: keys.child(plan.nhsNumber), SK: keys.plan(plan.councilCode, plan.planType) },
        ConditionExpression: 'version = :expected',
        ExpressionAttributeValues: { ':expected': plan.version },
      },
    },
    auditPut(audit),
  ]);
}

async function transact(
  items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>,
) {
  try {
    await client.send(new TransactWriteCommand({ TransactItems: items }));
  } catch (error) {
    const reasons = (error as { CancellationReasons?: { Code?: string; Item?: Record<string, unknown> }[] })
      .CancellationReasons;
    if ((error as Error).name !== 'TransactionCanceledException' || !reasons) throw error;
    const failed = reasons.findIndex((reason) => reason.Code === 'ConditionalCheckFailed');
    if (failed < 0) throw error;
    if (failed === 0) throw new WriteConflict(items[0]?.Delete ? 'NOT_FOUND' : 'VERSION');
    const guard = GUARD_REASONS[failed - 1];
    if (!guard) throw error;
    throw new WriteConflict(guard, reasons[failed]?.Item?.newNhsNumber as string | undefined);
  }
}

export interface NotifyingLookup {
  nhsNumber: string;
  at: string;
  accessor: Claims;
  audit: AuditEntry;
  messages: CouncilMessage[];
}

/** A notifying lookup's access record, audit event and outbox messages: all written, or none. */
export async function recordNotifyingLookup(lookup: NotifyingLookup): Promise<void> {
  const accessId = newId();
  const nowSeconds = Math.floor(Date.parse(lookup.at) / 1000);
  await client.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: tableName(),
            Item: {
              PK: keys.child(lookup.nhsNumber),
              SK: keys.access(lookup.at, accessId),
              kind: 'ACCESS',
              accessedAt: lookup.at,
              userId: lookup.accessor.sub,
              userName: lookup.accessor.name,
              organisation: lookup.accessor.org,
              setting: lookup.accessor.setting,
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        auditPut(lookup.audit),
        ...lookup.messages.map((message) => outboxPut(message, nowSeconds)),
      ],
    }),
  );
}

export async function appendAudit(entry: AuditEntry): Promise<void> {
  await client.send(new PutCommand(auditPut(entry).Put));
}

export interface AuditPage {
  events: AuditEvent[];
  /** The last event's sort key when more may follow. */
  lastKey?: string;
}

/** One page of a subject's audit events, newest first; reads one extra to know whether more follow. */
export async function queryAudit(subject: string, limit: number, afterKey?: string): Promise<AuditPage> {
  const result = await client.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.audit(subject) },
      ScanIndexForward: false,
      Limit: limit + 1,
      ExclusiveStartKey: afterKey ? { PK: keys.audit(subject), SK: afterKey } : undefined,
    }),
  );
  const items = result.Items ?? [];
  const page = items.slice(0, limit);
  const events = page.map(
    (item): AuditEvent => ({
      eventId: item.eventId,
      at: item.at,
      action: item.action,
      actor: item.actor,
      ...(item.planType ? { planType: item.planType } : {}),
      ...(item.councilCode ? { councilCode: item.councilCode } : {}),
      outcome: item.outcome,
    }),
  );
  const lastKey =
    items.length > limit
      ? (page[page.length - 1]?.SK as string)
      : (result.LastEvaluatedKey?.SK as string | undefined);
  return { events, lastKey };
}

/** True when the string could be an audit sort key (guards cursors decoded from clients). */
export function isAuditSortKey(value: string): boolean {
  return /^EVENT#\d{4}-\d{2}-\d{2}T[\d:.]+Z#[0-9A-Z]{26}$/.test(value);
}

function backoff(attempt: number): Promise<void> {
  const delay = Math.min(1000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, delay));
}
