/**
 * The single DynamoDB table: the only module that knows its key design.
 *
 * | item              | PK                 | SK                          | notes                                   |
 * |-------------------|--------------------|-----------------------------|-----------------------------------------|
 * | plan pointer      | CHILD#<nhs>        | PLAN#<council>#<planType>   | GSI1: COUNCIL#<council> / <nhs>#<type>  |
 * | status            | CHILD#<nhs>        | STATUS                      | sensitive flag; newNhsNumber once       |
 * |                   |                    |                             | superseded (points at the replacement); |
 * |                   |                    |                             | replaces: the numbers superseded by it  |
 * | council           | COUNCIL#<code>     | PROFILE                     | GSI1: COUNCILS / <code>                 |
 * | audit event       | AUDIT#<subject>    | EVENT#<at>#<id>             | append-only                             |
 * | access (B0107)    | AUDIT#<nhs>        | ACCESS#<at>#<id>            | append-only: the audit event of a       |
 * |                   |                    |                             | notifying lookup that found plans,      |
 * |                   |                    |                             | shown in previousAccesses               |
 *
 * An audit event that must notify councils carries their messages and `notifies: true`; the table's
 * stream passes such inserts to the dispatch function. So a notifying lookup writes one item: its
 * audit event is at once the access record and the notification, and needs no transaction. Accesses
 * sort apart from other audit events (ACCESS# < EVENT#), so the access history is one short Query of
 * that range; the audit route merges the two ranges. Sensitivity and supersession share the one status
 * item so that a plan write guards on both with a single ConditionCheck (each item in a transaction
 * costs DynamoDB time and two write units).
 */
import { type AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
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
import { tableDefinition } from './table-definition';

export const GSI1 = 'GSI1';
/** Sort-key prefix of a child's plan items. */
export const PLAN_RANGE = 'PLAN#';
/** Sort-key prefixes of the two ranges of an audit partition: accesses, and every other event. */
export const ACCESS_RANGE = 'ACCESS#';
export const EVENT_RANGE = 'EVENT#';
const AUDIT_RANGES = [ACCESS_RANGE, EVENT_RANGE] as const;
const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

const CHILD_PREFIX = 'CHILD#';

export const keys = {
  child: (nhsNumber: string) => `${CHILD_PREFIX}${nhsNumber}`,
  plan: (councilCode: string, planType: string) => `${PLAN_RANGE}${councilCode}#${planType}`,
  council: (code: string) => `COUNCIL#${code}`,
  audit: (subject: string) => `${tableDefinition.auditKeyPrefix}${subject}`,
  auditEvent: (at: string, id: string) => `${EVENT_RANGE}${at}#${id}`,
  auditAccess: (at: string, id: string) => `${ACCESS_RANGE}${at}#${id}`,
  councilPlans: (code: string) => `COUNCIL#${code}`,
  councilPlan: (nhsNumber: string, planType: string) => `${nhsNumber}#${planType}`,
  /** GSI1 partition listing every council's profile (codes as sort keys). */
  councilDirectory: 'COUNCILS',
} as const;

export const SK_PROFILE = 'PROFILE';
export const SK_STATUS = 'STATUS';

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
  supersededBy?: string;
  /** NHS numbers superseded by this one (directly or through a chain): their accesses are this child's. */
  replaces: string[];
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

/**
 * What an audit event may carry besides the event: `access` makes it the access record of a notifying
 * lookup that found plans (with the setting shown in previousAccesses); `messages` are council
 * notifications the dispatch function sends when the event is written.
 */
export interface AuditExtras {
  access?: { setting: string | null };
  messages?: readonly CouncilMessage[];
}

/** An audit event as stored (also used by the benchmarks to write the same items directly). */
export function auditItem(entry: AuditEntry, extras: AuditExtras = {}) {
  const eventId = newId();
  const notifies = (extras.messages?.length ?? 0) > 0;
  return {
    PK: keys.audit(entry.subject),
    SK: extras.access ? keys.auditAccess(entry.at, eventId) : keys.auditEvent(entry.at, eventId),
    kind: 'AUDIT',
    eventId,
    at: entry.at,
    action: entry.action,
    outcome: entry.outcome,
    actor: { sub: entry.actor.sub, name: entry.actor.name, org: entry.actor.org, role: entry.actor.role },
    planType: entry.planType,
    councilCode: entry.councilCode,
    ...(extras.access ? { setting: extras.access.setting ?? undefined } : {}),
    ...(notifies ? { [tableDefinition.notifiesAttribute]: true, messages: extras.messages } : {}),
  };
}

function auditPut(entry: AuditEntry, extras?: AuditExtras) {
  return {
    Put: {
      TableName: tableName(),
      Item: auditItem(entry, extras),
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

/** A plan pointer as stored (also used by the benchmarks to write the same items directly). */
export function planItem(plan: StoredPlan, updatedAt: string) {
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

/**
 * Markers and plans of one NHS number, from one Query of its partition; `consistent` for a read that
 * decides a write the transaction cannot guard (which plans a supersession moves).
 */
export async function readChild(nhsNumber: string, { consistent = false } = {}): Promise<ChildView> {
  const view: ChildView = { plans: [], replaces: [], sensitive: false };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await client.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.child(nhsNumber) },
        ExclusiveStartKey: startKey,
        ...(consistent ? { ConsistentRead: true } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const sk = item.SK as string;
      if (sk === SK_STATUS) {
        Object.assign(view, markersOf(item));
        if (item.replaces instanceof Set) view.replaces = [...(item.replaces as Set<string>)].sort();
      } else if (sk.startsWith(PLAN_RANGE)) view.plans.push(toPlan(item));
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return view;
}

/**
 * The Query of one NHS number's most recent accesses, newest first. (Also used by the benchmarks to
 * send the same Query directly.)
 */
export function accessHistoryQuery(nhsNumber: string, table = tableName()) {
  return {
    TableName: table,
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :access)',
    ExpressionAttributeValues: { ':pk': keys.audit(nhsNumber), ':access': ACCESS_RANGE },
    ScanIndexForward: false,
    Limit: MAX_PREVIOUS_ACCESSES,
  };
}

/**
 * The most recent accesses (notifying lookups that found plans) of a child known by these NHS numbers:
 * one Query of each number's access range, newest first.
 */
export async function readAccesses(nhsNumbers: readonly string[]): Promise<PreviousAccess[]> {
  const pages = await Promise.all(
    nhsNumbers.map((nhsNumber) => client.send(new QueryCommand(accessHistoryQuery(nhsNumber)))),
  );
  return recentAccesses(
    pages.flatMap((page) =>
      (page.Items ?? []).map((item) => {
        const actor = item.actor as AuditEntry['actor'];
        return {
          accessedAt: item.at as string,
          userId: actor.sub,
          userName: actor.name,
          organisation: actor.org,
          setting: (item.setting as string | undefined) ?? null,
        };
      }),
    ),
  );
}

/** Reads items by key in batches of 100 (a few at once), retrying keys DynamoDB leaves unprocessed. */
async function batchGet(
  itemKeys: readonly { PK: string; SK: string }[],
  consistent = false,
): Promise<Record<string, unknown>[]> {
  const chunks: { PK: string; SK: string }[][] = [];
  for (let i = 0; i < itemKeys.length; i += 100) chunks.push(itemKeys.slice(i, i + 100));
  const found: Record<string, unknown>[] = [];
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined =
        {
          [tableName()]: { Keys: chunks[next++] as { PK: string; SK: string }[], ConsistentRead: consistent },
        };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await backoff(attempt);
        const result = await client.send(new BatchGetCommand({ RequestItems: request }));
        found.push(...(result.Responses?.[tableName()] ?? []));
        request = result.UnprocessedKeys as typeof request;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, chunks.length) }, worker));
  return found;
}

/** Councils by code, in one batch read. */
export async function getCouncils(codes: readonly string[]): Promise<Map<string, Council>> {
  const items = await batchGet(
    [...new Set(codes)].map((code) => ({ PK: keys.council(code), SK: SK_PROFILE })),
  );
  return new Map(items.map((item) => [item.code as string, toCouncil(item)]));
}

export async function getCouncil(code: string): Promise<Council | undefined> {
  return (await getCouncils([code])).get(code);
}

/**
 * Stores a council's directory entry, audited under the council's own key; returns false (and writes
 * nothing) when it is already so.
 */
export async function putCouncil(council: Council, audit: Omit<AuditEntry, 'subject'>): Promise<boolean> {
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
          GSI1PK: keys.councilDirectory,
          GSI1SK: council.code,
        },
      },
    },
    auditPut({ ...audit, subject: keys.council(council.code) }),
  ]);
  return true;
}

/** Every registered council's code, from the council directory in GSI1 (eventually consistent). */
export async function listCouncilCodes(): Promise<string[]> {
  const items = await queryCouncilIndex(keys.councilDirectory, 'GSI1SK');
  return items.map((item) => item.GSI1SK as string);
}

/** Every item of one GSI1 partition, page by page. */
async function queryCouncilIndex(partition: string, projection?: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await client.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: GSI1,
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': partition },
        ProjectionExpression: projection,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

export interface NhsNumberMarkers {
  supersededBy?: string;
  sensitive: boolean;
}

function markersOf(status: Record<string, unknown> | undefined): NhsNumberMarkers {
  return {
    ...(typeof status?.newNhsNumber === 'string' ? { supersededBy: status.newNhsNumber } : {}),
    sensitive: status?.sensitive === true,
  };
}

/** Supersession and sensitivity of many NHS numbers (strongly consistent). */
export async function readMarkers(nhsNumbers: readonly string[]): Promise<Map<string, NhsNumberMarkers>> {
  const unique = [...new Set(nhsNumbers)];
  const items = await batchGet(
    unique.map((nhsNumber) => ({ PK: keys.child(nhsNumber), SK: SK_STATUS })),
    true,
  );
  const statuses = new Map(items.map((item) => [(item.PK as string).slice(CHILD_PREFIX.length), item]));
  return new Map(unique.map((nhsNumber) => [nhsNumber, markersOf(statuses.get(nhsNumber))]));
}

/** One council's plans for the given NHS number and plan type pairs (strongly consistent). */
export async function readCouncilPlans(
  councilCode: string,
  pairs: readonly { nhsNumber: string; planType: string }[],
): Promise<Map<string, StoredPlan>> {
  const items = await batchGet(
    pairs.map((pair) => ({ PK: keys.child(pair.nhsNumber), SK: keys.plan(councilCode, pair.planType) })),
    true,
  );
  return new Map(items.map((item) => [`${item.nhsNumber}#${item.planType}`, toPlan(item)]));
}

/** Every plan a council holds (from the council index, so eventually consistent). */
export async function listCouncilPlans(councilCode: string): Promise<StoredPlan[]> {
  return (await queryCouncilIndex(keys.councilPlans(councilCode))).map(toPlan);
}

export interface PlanWriteContext extends NhsNumberMarkers {
  plan?: StoredPlan;
  councilRegistered: boolean;
}

/** What a plan write depends on: the plan itself, the council, and the NHS number's markers. */
export async function readPlanWriteContext(
  councilCode: string,
  nhsNumber: string,
  planType: PlanType,
): Promise<PlanWriteContext> {
  const items = await batchGet(
    [
      { PK: keys.child(nhsNumber), SK: keys.plan(councilCode, planType) },
      { PK: keys.child(nhsNumber), SK: SK_STATUS },
      { PK: keys.council(councilCode), SK: SK_PROFILE },
    ],
    true,
  );
  const context: PlanWriteContext = { councilRegistered: false, sensitive: false };
  for (const item of items) {
    const sk = item.SK as string;
    if (sk === SK_PROFILE) context.councilRegistered = true;
    else if (sk === SK_STATUS) Object.assign(context, markersOf(item));
    else context.plan = toPlan(item);
  }
  return context;
}

/** A plan to write with its audit event; no `expectedVersion` means the plan must not exist yet. */
export interface PlanWrite {
  plan: StoredPlan;
  expectedVersion?: number;
  audit: AuditEntry;
}

type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];
interface TaggedItem {
  item: TransactItem;
  /** STATUS: superseded or sensitive, told apart by the status item DynamoDB returns. */
  reason: WriteConflict['reason'] | 'STATUS';
  /** Index of the write this item belongs to. */
  write: number;
}

/** DynamoDB's limit of items in one transaction. */
const MAX_TRANSACTION_ITEMS = 100;

function planWriteItems(write: PlanWrite, index: number): TaggedItem[] {
  const condition =
    write.expectedVersion === undefined
      ? { ConditionExpression: 'attribute_not_exists(PK)' }
      : {
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': write.expectedVersion },
        };
  return [
    {
      item: { Put: { TableName: tableName(), Item: planItem(write.plan, write.audit.at), ...condition } },
      reason: 'VERSION',
      write: index,
    },
    { item: auditPut(write.audit), reason: 'VERSION', write: index },
  ];
}

/**
 * The check a plan write makes on its NHS number's status item: not superseded since the write was
 * decided and, for a new plan, not flagged sensitive since. On failure DynamoDB returns the item,
 * which tells the two apart. (Also used by the benchmarks to send the same transaction directly.)
 */
export function statusCheck(nhsNumber: string, newPlan: boolean, table = tableName()) {
  return {
    ConditionCheck: {
      TableName: table,
      Key: { PK: keys.child(nhsNumber), SK: SK_STATUS },
      ...(newPlan
        ? {
            ConditionExpression:
              'attribute_not_exists(newNhsNumber) AND (attribute_not_exists(#sensitive) OR #sensitive <> :true)',
            ExpressionAttributeNames: { '#sensitive': 'sensitive' },
            ExpressionAttributeValues: { ':true': true },
          }
        : { ConditionExpression: 'attribute_not_exists(newNhsNumber)' }),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    },
  };
}

/**
 * One status check per NHS number per transaction (DynamoDB refuses two operations on one item in a
 * transaction): the first write of a number adds it; a later new plan of the same number makes it
 * the stricter new-plan check.
 */
function statusChecks(write: PlanWrite, index: number, checks: Map<string, TaggedItem>): TaggedItem[] {
  const nhsNumber = write.plan.nhsNumber;
  const newPlan = write.expectedVersion === undefined;
  const existing = checks.get(nhsNumber);
  if (existing) {
    if (newPlan) existing.item = statusCheck(nhsNumber, true);
    return [];
  }
  const tagged: TaggedItem = { item: statusCheck(nhsNumber, newPlan), reason: 'STATUS', write: index };
  checks.set(nhsNumber, tagged);
  return [tagged];
}

/**
 * Splits one council's writes into transactions of at most 100 items.
 *
 * The council's registration is checked when the write is prepared (readPlanWriteContext), not inside
 * the transaction: council profiles are never deleted, and a ConditionCheck on the one profile item
 * would make every concurrent plan write of a council conflict with every other (DynamoDB cancels
 * transactions that touch an item another transaction holds), serialising bulk uploads.
 */
function planTransactions(writes: readonly PlanWrite[]): TaggedItem[][] {
  const transactions: TaggedItem[][] = [];
  let current: TaggedItem[] = [];
  let checks = new Map<string, TaggedItem>();
  writes.forEach((write, index) => {
    // Split before building the write's items (at most 3): statusChecks registers its check, or makes
    // an earlier write's check stricter, in the transaction the write goes into.
    if (current.length > 0 && current.length + 3 > MAX_TRANSACTION_ITEMS) {
      transactions.push(current);
      current = [];
      checks = new Map();
    }
    const items = [...planWriteItems(write, index), ...statusChecks(write, index, checks)];
    current.push(...items);
  });
  if (current.length > 0) transactions.push(current);
  return transactions;
}

/** A transaction refused by a condition: which write, and why. */
export class PlanWriteConflict extends WriteConflict {
  /** Indexes of the writes that did land (set by writePlans). */
  applied: readonly number[] = [];

  constructor(
    conflict: WriteConflict,
    readonly writeIndex: number,
  ) {
    super(conflict.reason, conflict.supersededBy);
  }
}

/**
 * Writes plans, each with its audit event, in as few transactions as DynamoDB allows
 * (several at once). Each transaction is all-or-nothing. On a refused condition it throws
 * PlanWriteConflict naming the write; `applied` then lists the indexes of writes that did land.
 */
export async function writePlans(
  writes: readonly PlanWrite[],
  concurrency = 4,
): Promise<{ applied: number[] }> {
  const transactions = planTransactions(writes);
  const applied: number[] = [];
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < transactions.length) {
      const tagged = transactions[next++] as TaggedItem[];
      try {
        await transactTagged(tagged);
        applied.push(...new Set(tagged.map((entry) => entry.write)));
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, transactions.length) }, worker));
  if (failure !== undefined) {
    if (failure instanceof PlanWriteConflict) failure.applied = applied;
    throw failure;
  }
  return { applied };
}

/** Creates or replaces one plan and audits it, in one transaction. */
export async function writePlan(plan: StoredPlan, expectedVersion: number | undefined, audit: AuditEntry) {
  await writePlans([{ plan, expectedVersion, audit }]);
}

async function transactTagged(tagged: TaggedItem[]): Promise<void> {
  try {
    await sendTransaction(tagged.map((entry) => entry.item));
  } catch (error) {
    const reasons = cancellationReasons(error);
    const failed = reasons?.findIndex((reason) => reason.Code === 'ConditionalCheckFailed') ?? -1;
    const entry = tagged[failed];
    if (!reasons || !entry) throw error;
    const supersededBy = reasons[failed]?.Item?.newNhsNumber as string | undefined;
    const reason = entry.reason !== 'STATUS' ? entry.reason : supersededBy ? 'SUPERSEDED' : 'SENSITIVE';
    throw new PlanWriteConflict(new WriteConflict(reason, supersededBy), entry.write);
  }
}

const TRANSACTION_ATTEMPTS = 5;

/**
 * TransactWriteItems, tried again (with jittered backoff) when DynamoDB cancels it for a conflict with
 * another transaction in flight or throttling; condition failures are the caller's to handle.
 */
async function sendTransaction(items: TransactItem[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (error) {
      const reasons = cancellationReasons(error) ?? [];
      const transient =
        (error as Error).name === 'TransactionInProgressException' ||
        (reasons.length > 0 &&
          reasons.some(
            (reason) => reason.Code === 'TransactionConflict' || reason.Code === 'ThrottlingError',
          ) &&
          !reasons.some((reason) => reason.Code === 'ConditionalCheckFailed'));
      if (!transient || attempt >= TRANSACTION_ATTEMPTS) throw error;
      await backoff(attempt);
    }
  }
}

/**
 * Why DynamoDB cancelled a transaction, item by item. The document client leaves the items of an
 * error in DynamoDB's attribute-value form, so they are unmarshalled here.
 */
function cancellationReasons(
  error: unknown,
): { Code?: string; Item?: Record<string, unknown> }[] | undefined {
  if ((error as Error).name !== 'TransactionCanceledException') return undefined;
  const reasons = (
    error as { CancellationReasons?: { Code?: string; Item?: Record<string, AttributeValue> }[] }
  ).CancellationReasons;
  return reasons?.map(({ Code, Item }) => ({ Code, ...(Item ? { Item: unmarshall(Item) } : {}) }));
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

async function transact(items: TransactItem[]) {
  try {
    await sendTransaction(items);
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons?.[0]?.Code === 'ConditionalCheckFailed')
      throw new WriteConflict(items[0]?.Delete ? 'NOT_FOUND' : 'VERSION');
    throw error;
  }
}

export interface NotifyingLookup {
  /** The lookup's audit event about the NHS number whose plans it found: its access record. */
  access: AuditEntry;
  setting: string | null;
  /** Its audit events about other numbers it is about (a superseded number it was asked by). */
  others: readonly AuditEntry[];
  messages: readonly CouncilMessage[];
}

/**
 * A notifying lookup that found plans: its access record, which is its audit event and carries the
 * council messages, plus any other audit events of the lookup. One PutItem, or all in one transaction.
 */
export async function recordNotifyingLookup(lookup: NotifyingLookup): Promise<void> {
  const access = auditPut(lookup.access, {
    access: { setting: lookup.setting },
    messages: lookup.messages,
  });
  if (lookup.others.length === 0) await putAudit(access.Put);
  else await transact([access, ...lookup.others.map((entry) => auditPut(entry))]);
}

/**
 * Puts one audit item, whose key holds an event id made for this write. Its condition can fail only
 * when an earlier attempt of this very write committed and its answer was lost (the SDK then retries):
 * that is success, not an error.
 */
async function putAudit(put: ReturnType<typeof auditPut>['Put']): Promise<void> {
  try {
    await client.send(new PutCommand(put));
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
}

export async function appendAudit(entry: AuditEntry): Promise<void> {
  await putAudit(auditPut(entry).Put);
}

/** Audit events of one act about several subjects: all written, or none. */
export async function appendAudits(entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 1) await appendAudit(entries[0] as AuditEntry);
  else await transact(entries.map((entry) => auditPut(entry)));
}

export interface AuditPage {
  events: AuditEvent[];
  /** The last event's position (`<at>#<id>`) when more may follow. */
  lastKey?: string;
}

/**
 * One page of a subject's audit events, newest first, after the event at `afterPosition`. Accesses and
 * other events are two ranges of the partition: each is read backwards from the position (one more
 * than the page, to know whether more follow) and the two merged in time order.
 */
export async function queryAudit(subject: string, limit: number, afterPosition?: string): Promise<AuditPage> {
  const ranges = await Promise.all(
    AUDIT_RANGES.map(async (prefix) => {
      const below = afterPosition === undefined ? undefined : `${prefix}${afterPosition}`;
      const result = await client.send(
        new QueryCommand({
          TableName: tableName(),
          KeyConditionExpression: below
            ? 'PK = :pk AND SK < :below'
            : 'PK = :pk AND begins_with(SK, :prefix)',
          ExpressionAttributeValues: {
            ':pk': keys.audit(subject),
            ...(below ? { ':below': below } : { ':prefix': prefix }),
          },
          ScanIndexForward: false,
          Limit: limit + 1,
        }),
      );
      // Read backwards from below `EVENT#…`, the range runs on into the ACCESS# range: cut it there.
      return (result.Items ?? []).filter((item) => (item.SK as string).startsWith(prefix));
    }),
  );
  const position = (item: Record<string, unknown>) =>
    (item.SK as string).slice((item.SK as string).indexOf('#') + 1);
  const items = ranges
    .flat()
    .map((item) => ({ item, position: position(item) }))
    .sort((a, b) => (a.position < b.position ? 1 : a.position > b.position ? -1 : 0));
  const page = items.slice(0, limit);
  const events = page.map(
    ({ item }): AuditEvent => ({
      eventId: item.eventId as string,
      at: item.at as string,
      action: item.action as AuditAction,
      actor: item.actor as AuditEvent['actor'],
      ...(item.planType ? { planType: item.planType as PlanType } : {}),
      ...(item.councilCode ? { councilCode: item.councilCode as string } : {}),
      outcome: item.outcome as AuditOutcome,
    }),
  );
  return { events, lastKey: items.length > limit ? page[page.length - 1]?.position : undefined };
}

/** True when the string could be an audit event's position (guards cursors decoded from clients). */
export function isAuditPosition(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T[\d:.]+Z#[0-9A-Z]{26}$/.test(value);
}

function backoff(attempt: number): Promise<void> {
  const delay = Math.min(1000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, delay));
}

/** Records the demographics service's sensitivity flag; returns false (writing nothing) when unchanged. */
export async function setSensitivity(
  nhsNumber: string,
  sensitive: boolean,
  audit: AuditEntry,
): Promise<boolean> {
  const markers = (await readMarkers([nhsNumber])).get(nhsNumber);
  if ((markers?.sensitive ?? false) === sensitive) return false;
  await transact([
    {
      Update: {
        TableName: tableName(),
        Key: { PK: keys.child(nhsNumber), SK: SK_STATUS },
        UpdateExpression: 'SET kind = :kind, #sensitive = :sensitive, updatedAt = :at',
        ExpressionAttributeNames: { '#sensitive': 'sensitive' },
        ExpressionAttributeValues: { ':kind': 'STATUS', ':sensitive': sensitive, ':at': audit.at },
      },
    },
    auditPut(audit),
  ]);
  return true;
}

export interface Supersession {
  oldNhsNumber: string;
  newNhsNumber: string;
  /** Plans of the old number, as read, and the new number's plans they merge into. */
  moves: { from: StoredPlan; into: StoredPlan; intoVersion?: number }[];
  /** The numbers the old one replaces: the new one replaces them as well as the old one. */
  oldReplaces: readonly string[];
  audits: AuditEntry[];
  /** Carried by the audit event about the new number. */
  messages: CouncilMessage[];
  /**
   * The old number already points at the new one: these are plans written under it while an earlier
   * transaction was marking it, which that transaction could not see. They move now, under the same mark.
   */
  alreadyMarked?: boolean;
}

/**
 * Moves plans from a superseded NHS number to its replacement, marks the old number, records on the new
 * one which numbers it replaces (lookups read their access history too), audits both and notifies one
 * message per council, in one transaction.
 */
export async function recordSupersession(change: Supersession): Promise<void> {
  const at = change.audits[0]?.at ?? new Date().toISOString();
  const oldStatus = { PK: keys.child(change.oldNhsNumber), SK: SK_STATUS };
  const items: TransactItem[] = [
    change.alreadyMarked
      ? {
          ConditionCheck: {
            TableName: tableName(),
            Key: oldStatus,
            ConditionExpression: 'newNhsNumber = :new',
            ExpressionAttributeValues: { ':new': change.newNhsNumber },
          },
        }
      : {
          Update: {
            TableName: tableName(),
            Key: oldStatus,
            UpdateExpression: 'SET kind = :kind, newNhsNumber = :new, updatedAt = :at',
            // The numbers it replaces, as read, pass to the new number: they only ever grow.
            ConditionExpression:
              change.oldReplaces.length === 0
                ? 'attribute_not_exists(newNhsNumber) AND attribute_not_exists(replaces)'
                : 'attribute_not_exists(newNhsNumber) AND size(replaces) = :replacing',
            ExpressionAttributeValues: {
              ':kind': 'STATUS',
              ':new': change.newNhsNumber,
              ':at': at,
              ...(change.oldReplaces.length === 0 ? {} : { ':replacing': change.oldReplaces.length }),
            },
          },
        },
    change.alreadyMarked
      ? {
          ConditionCheck: {
            TableName: tableName(),
            Key: { PK: keys.child(change.newNhsNumber), SK: SK_STATUS },
            ConditionExpression: 'attribute_not_exists(newNhsNumber)',
          },
        }
      : {
          Update: {
            TableName: tableName(),
            Key: { PK: keys.child(change.newNhsNumber), SK: SK_STATUS },
            UpdateExpression: 'SET kind = :kind, updatedAt = :at ADD replaces :replaced',
            ConditionExpression: 'attribute_not_exists(newNhsNumber)',
            ExpressionAttributeValues: {
              ':kind': 'STATUS',
              ':at': at,
              ':replaced': new Set([change.oldNhsNumber, ...change.oldReplaces]),
            },
          },
        },
    ...change.moves.flatMap((move): TransactItem[] => [
      {
        Delete: {
          TableName: tableName(),
          Key: {
            PK: keys.child(move.from.nhsNumber),
            SK: keys.plan(move.from.councilCode, move.from.planType),
          },
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': move.from.version },
        },
      },
      {
        Put: {
          TableName: tableName(),
          Item: planItem(move.into, at),
          ...(move.intoVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(PK)' }
            : {
                ConditionExpression: 'version = :expected',
                ExpressionAttributeValues: { ':expected': move.intoVersion },
              }),
        },
      },
    ]),
    ...change.audits.map((entry) =>
      auditPut(entry, entry.subject === change.newNhsNumber ? { messages: change.messages } : {}),
    ),
  ];
  try {
    await sendTransaction(items);
  } catch (error) {
    if (cancellationReasons(error)?.some((reason) => reason.Code === 'ConditionalCheckFailed')) {
      throw new WriteConflict('VERSION');
    }
    throw error;
  }
}
