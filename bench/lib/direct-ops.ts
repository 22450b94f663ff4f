/**
 * The baselines: the very DynamoDB calls a lookup and a plan publish make (same commands, parameters and
 * item shapes as functions/store/), issued straight through the SDK's document client, with no
 * HTTP, middy, token check or handler logic around them.
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
import type { PlanType } from '../../functions/core/plans';
import type { AuditAction, AuditOutcome, Council } from '../../functions/core/schemas';
import { accessHistoryQuery, auditPut as storeAuditPut } from '../../functions/store/audit';
import { newId } from '../../functions/store/ids';
import {
  type AuditEntry,
  type AuditExtras,
  auditItem,
  carriedAccessItem,
  councilItem,
  planItem,
} from '../../functions/store/items';
import {
  AUDIT_RANGES,
  councilKey,
  EVENT_RANGE,
  type ItemKey,
  keys,
  PLAN_RANGE,
  planKey,
  SK_PROFILE,
  SK_STATUS,
  statusKey,
} from '../../functions/store/keys';
import { planPut, statusCheck } from '../../functions/store/plans';
import { MAX_TRANSACTION_ITEMS } from '../../functions/store/transactions';
import type { Claims } from '../../testkit/tokens';

/** Same client configuration as the table module. */
const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

function auditPut(
  tableName: string,
  subject: string,
  action: AuditAction,
  outcome: AuditOutcome,
  actor: Claims,
  at: string,
  extras: AuditExtras = {},
) {
  return {
    TableName: tableName,
    Item: auditItem({ subject, action, outcome, actor: actor as AuditEntry['actor'], at }, extras),
    ConditionExpression: 'attribute_not_exists(PK)',
  };
}

/** The items one lookup read: what a handler would build its answer from. */
export interface DirectLookupRead {
  plans: Record<string, unknown>[];
  councils: Record<string, unknown>[];
  accesses: Record<string, unknown>[];
}

/**
 * One lookup's DynamoDB calls: Query of the child, then (plans found) the BatchGet of councils and the
 * Query of the access history at once, then one Put of the audit event (for a notifying lookup that
 * found plans, its access record carrying the council messages).
 */
export async function directLookup(
  tableName: string,
  nhsNumber: string,
  claims: Claims,
): Promise<DirectLookupRead> {
  const notifying = claims.activities.includes('B0107');
  const at = new Date().toISOString();
  const plans = plansOf(await directReadChild(tableName, nhsNumber));
  // Benchmark plans are open, so every plan read is visible.
  const councils = [...new Set(plans.map((plan) => plan.councilCode as string))];
  const read: DirectLookupRead = { plans, councils: [], accesses: [] };
  if (councils.length > 0) {
    const [result, accesses] = await Promise.all([
      client.send(
        new BatchGetCommand({
          RequestItems: {
            [tableName]: {
              Keys: councils.map((code) => ({ PK: keys.council(code), SK: SK_PROFILE })),
              ConsistentRead: false,
            },
          },
        }),
      ),
      client.send(new QueryCommand(accessHistoryQuery(tableName, nhsNumber))),
    ]);
    read.councils = result.Responses?.[tableName] ?? [];
    read.accesses = accesses.Items ?? [];
    if (read.councils.length !== councils.length) throw new Error('council profile missing');
  }
  const outcome = plans.length > 0 ? 'FOUND' : 'NOT_FOUND';
  const notifies = notifying && plans.length > 0;
  const messages = notifies
    ? councils.map((councilCode) => ({
        type: 'ChildRecordAccessed' as const,
        eventId: newId(),
        occurredAt: at,
        councilCode,
        nhsNumber,
        planTypes: plans
          .filter((plan) => plan.councilCode === councilCode)
          .map((plan) => plan.planType as PlanType)
          .sort(),
        accessedBy: {
          userId: claims.sub,
          userName: claims.name,
          roleName: null,
          organisation: claims.org,
          organisationName: null,
          setting: claims.setting ?? null,
        },
      }))
    : [];
  await client.send(
    new PutCommand(
      auditPut(
        tableName,
        nhsNumber,
        notifying ? 'LOOKUP_NOTIFYING' : 'LOOKUP_SILENT',
        outcome,
        claims,
        at,
        notifies
          ? { access: { setting: claims.setting ?? null, roleName: null, organisationName: null }, messages }
          : {},
      ),
    ),
  );
  return read;
}

/** One new plan's DynamoDB calls: the consistent BatchGet of its write context, then the guarded transaction. */
export async function directPublish(
  tableName: string,
  councilCode: string,
  nhsNumber: string,
  planType: string,
  startDate: string,
  claims: Claims,
): Promise<void> {
  const at = new Date().toISOString();
  const context = await client.send(
    new BatchGetCommand({
      RequestItems: {
        [tableName]: {
          Keys: [
            { PK: keys.child(nhsNumber), SK: keys.plan(councilCode, planType) },
            { PK: keys.child(nhsNumber), SK: SK_STATUS },
            { PK: keys.council(councilCode), SK: SK_PROFILE },
          ],
          ConsistentRead: true,
        },
      },
    }),
  );
  const found = context.Responses?.[tableName] ?? [];
  const audit = auditPut(tableName, nhsNumber, 'PLAN_CREATED', 'SUCCESS', claims, at);
  if (found.length !== 1) throw new Error(`expected only the council profile, read ${found.length} items`);
  await client.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: tableName,
            Item: planItem(
              {
                nhsNumber,
                planType: planType as PlanType,
                councilCode,
                startDate,
                endDate: null,
                version: 1,
              },
              at,
            ),
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        { Put: { ...audit, Item: { ...audit.Item, planType, councilCode } } },
        statusCheck(tableName, nhsNumber, true),
      ],
    }),
  );
}

/*
 * The cold-start benchmark's same-calls bares (bench/measurements/cold-start.ts): each function's first
 * event's calls for its fixture, command for command, with the store's own key and item builders. Each
 * throws when the table is not in the state its fixture leaves it in, rather than make other calls.
 */

/** An audit event as the store writes it inside a transaction (`auditPut` of functions/store/audit). */
type AuditFields = Omit<AuditEntry, 'actor'> & { actor: Claims };
const auditOf = (tableName: string, entry: AuditFields, extras?: AuditExtras) =>
  storeAuditPut(tableName, { ...entry, actor: entry.actor as AuditEntry['actor'] }, extras);

/** BatchGet of up to 100 keys, as functions/store/batch-get sends it (unprocessed keys read again). */
async function directBatchGet(
  tableName: string,
  itemKeys: readonly ItemKey[],
  consistent: boolean,
): Promise<Record<string, unknown>[]> {
  if (itemKeys.length > 100) throw new Error('directBatchGet reads one batch of at most 100 keys');
  const found: Record<string, unknown>[] = [];
  let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = {
    [tableName]: { Keys: itemKeys.map((key) => ({ ...key })), ConsistentRead: consistent },
  };
  while (request && Object.keys(request).length > 0) {
    const result = await client.send(new BatchGetCommand({ RequestItems: request }));
    found.push(...(result.Responses?.[tableName] ?? []));
    request = result.UnprocessedKeys as typeof request;
  }
  return found;
}

/** The Query of a child's partition, page by page, as PlanRepository.readChild sends it. */
async function directReadChild(
  tableName: string,
  nhsNumber: string,
  consistent = false,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.child(nhsNumber) },
        ExclusiveStartKey: startKey,
        ...(consistent ? { ConsistentRead: true } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

const plansOf = (items: Record<string, unknown>[]) =>
  items.filter((item) => String(item.SK).startsWith(PLAN_RANGE));

/** A council's registration read back: one BatchGet of its profile (CouncilRepository.get). */
export async function directReadRegistration(tableName: string, councilCode: string) {
  const [council] = await directBatchGet(tableName, [councilKey(councilCode)], false);
  if (!council) throw new Error(`council ${councilCode} is not registered`);
  return council;
}

/**
 * One page of a subject's audit trail (AuditRepository.page): its access range, its other events and its
 * coalesced refusals, three Queries at once, each read on until it holds more than a page.
 */
export async function directAuditPage(tableName: string, subject: string, limit: number) {
  const sources = [
    ...AUDIT_RANGES.map((prefix) => ({ pk: keys.audit(subject), prefix })),
    { pk: keys.refusals(subject), prefix: EVENT_RANGE },
  ];
  const ranges = await Promise.all(
    sources.map(async ({ pk, prefix }) => {
      const found: Record<string, unknown>[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const result: QueryCommandOutput = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
            FilterExpression: 'attribute_not_exists(carriedFrom)',
            ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
            ScanIndexForward: false,
            Limit: limit + 1,
            ExclusiveStartKey: startKey,
          }),
        );
        found.push(...(result.Items ?? []));
        startKey = result.LastEvaluatedKey;
      } while (startKey && found.length <= limit);
      return found.slice(0, limit + 1);
    }),
  );
  return ranges.flat();
}

/**
 * A council reading a child's accesses: the permission check's Query of the child, the use case's own
 * Query of it, the Query of the access history, then the Put of the audit event.
 */
export async function directCouncilAccesses(
  tableName: string,
  councilCode: string,
  nhsNumber: string,
  actor: Claims,
) {
  const holds = (items: Record<string, unknown>[]) =>
    plansOf(items).some((plan) => plan.councilCode === councilCode);
  if (!holds(await directReadChild(tableName, nhsNumber)))
    throw new Error(`council ${councilCode} holds no plan for ${nhsNumber}`);
  if (!holds(await directReadChild(tableName, nhsNumber)))
    throw new Error(`council ${councilCode} holds no plan for ${nhsNumber}`);
  const accesses = await client.send(new QueryCommand(accessHistoryQuery(tableName, nhsNumber)));
  const { Put } = auditOf(tableName, {
    subject: nhsNumber,
    action: 'COUNCIL_VIEWED_ACCESSES',
    outcome: 'FOUND',
    actor,
    at: new Date().toISOString(),
    councilCode,
  });
  await client.send(new PutCommand(Put));
  return accesses.Items ?? [];
}

/** A plan's removal: the consistent BatchGet of its write context, then the guarded Delete and its audit. */
export async function directRemovePlan(
  tableName: string,
  councilCode: string,
  nhsNumber: string,
  planType: PlanType,
  actor: Claims,
): Promise<void> {
  const items = await directBatchGet(
    tableName,
    [planKey(nhsNumber, councilCode, planType), statusKey(nhsNumber), councilKey(councilCode)],
    true,
  );
  const plan = plansOf(items)[0];
  if (!plan) throw new Error(`no ${planType} plan of ${councilCode} for ${nhsNumber}`);
  await client.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Delete: {
            TableName: tableName,
            Key: planKey(nhsNumber, councilCode, planType),
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': plan.version },
          },
        },
        auditOf(tableName, {
          subject: nhsNumber,
          action: 'PLAN_DELETED',
          outcome: 'SUCCESS',
          actor,
          at: new Date().toISOString(),
          planType,
          councilCode,
        }),
      ],
    }),
  );
}

/** A new council's registration: the BatchGet of its profile, then the profile's Put and its audit. */
export async function directRegisterCouncil(tableName: string, council: Council, actor: Claims) {
  const at = new Date().toISOString();
  const [existing] = await directBatchGet(tableName, [councilKey(council.code)], false);
  if (existing) throw new Error(`council ${council.code} is already registered`);
  await client.send(
    new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: tableName, Item: councilItem(council, at) } },
        auditOf(tableName, {
          subject: keys.council(council.code),
          action: 'COUNCIL_REGISTERED',
          outcome: 'SUCCESS',
          actor,
          at,
          councilCode: council.code,
        }),
      ],
    }),
  );
}

/** The sensitivity flag set: the consistent BatchGet of the status item, then its Update and the audit. */
export async function directSetSensitivity(
  tableName: string,
  nhsNumber: string,
  sensitive: boolean,
  actor: Claims,
): Promise<void> {
  const at = new Date().toISOString();
  const [status] = await directBatchGet(tableName, [statusKey(nhsNumber)], true);
  if ((status?.sensitive === true) === sensitive) throw new Error(`${nhsNumber} is already so flagged`);
  await client.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: tableName,
            Key: statusKey(nhsNumber),
            UpdateExpression: 'SET kind = :kind, #sensitive = :sensitive, updatedAt = :at',
            ExpressionAttributeNames: { '#sensitive': 'sensitive' },
            ExpressionAttributeValues: { ':kind': 'STATUS', ':sensitive': sensitive, ':at': at },
          },
        },
        auditOf(tableName, {
          subject: nhsNumber,
          action: 'SENSITIVITY_CHANGED',
          outcome: 'SUCCESS',
          actor,
          at,
        }),
      ],
    }),
  );
}

/**
 * A supersession of a number holding no plans (features/supersede): both numbers' partitions read
 * consistently, the old number's recent accesses, the one transaction that marks both numbers, audits
 * both and carries the accesses over, then both partitions read again to find nothing left to move.
 */
export async function directSupersede(
  tableName: string,
  oldNhsNumber: string,
  newNhsNumber: string,
  actor: Claims,
): Promise<void> {
  const read = async () => ({
    old: await directReadChild(tableName, oldNhsNumber, true),
    new: await directReadChild(tableName, newNhsNumber, true),
  });
  const first = await read();
  if (first.old.length > 0 || first.new.length > 0)
    throw new Error(`${oldNhsNumber} and ${newNhsNumber} must be fresh numbers`);
  const at = new Date().toISOString();
  const accesses =
    (await client.send(new QueryCommand(accessHistoryQuery(tableName, oldNhsNumber)))).Items ?? [];
  const audit = { action: 'NHS_NUMBER_SUPERSEDED' as const, outcome: 'SUCCESS' as const, actor, at };
  await client.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: tableName,
            Key: statusKey(oldNhsNumber),
            UpdateExpression: 'SET kind = :kind, newNhsNumber = :new, updatedAt = :at',
            ConditionExpression: 'attribute_not_exists(newNhsNumber) AND attribute_not_exists(replaces)',
            ExpressionAttributeValues: { ':kind': 'STATUS', ':new': newNhsNumber, ':at': at },
          },
        },
        {
          Update: {
            TableName: tableName,
            Key: statusKey(newNhsNumber),
            UpdateExpression: 'SET kind = :kind, updatedAt = :at ADD replaces :replaced',
            ConditionExpression: 'attribute_not_exists(newNhsNumber)',
            ExpressionAttributeValues: { ':kind': 'STATUS', ':at': at, ':replaced': new Set([oldNhsNumber]) },
          },
        },
        auditOf(tableName, { ...audit, subject: oldNhsNumber }),
        auditOf(tableName, { ...audit, subject: newNhsNumber }, { messages: [] }),
        ...accesses.map((access) => ({
          Put: {
            TableName: tableName,
            Item: carriedAccessItem(access, oldNhsNumber, newNhsNumber),
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        })),
      ],
    }),
  );
  const again = await read();
  if (plansOf(again.old).length > 0) throw new Error(`plans appeared under ${oldNhsNumber}`);
}

/**
 * A delta upload of new plans for fresh NHS numbers (features/upload-plans): the BatchGet of the
 * council, the consistent BatchGets of the numbers' status items and of the plans at once, then one
 * transaction of each row's plan, audit event and status check.
 */
export async function directUpload(
  tableName: string,
  councilCode: string,
  records: readonly { nhsNumber: string; planType: PlanType; startDate: string; endDate?: string | null }[],
  actor: Claims,
): Promise<void> {
  if (records.length > MAX_TRANSACTION_ITEMS / 3) throw new Error('directUpload writes one transaction');
  await directReadRegistration(tableName, councilCode);
  const now = new Date().toISOString();
  const [statuses, plans] = await Promise.all([
    directBatchGet(tableName, [...new Set(records.map((record) => record.nhsNumber))].map(statusKey), true),
    directBatchGet(
      tableName,
      records.map((record) => planKey(record.nhsNumber, councilCode, record.planType)),
      true,
    ),
  ]);
  if (statuses.length > 0 || plans.length > 0) throw new Error('the upload fixture must name fresh numbers');
  await client.send(
    new TransactWriteCommand({
      TransactItems: records.flatMap((record) => [
        planPut(
          tableName,
          {
            nhsNumber: record.nhsNumber,
            planType: record.planType,
            councilCode,
            startDate: record.startDate,
            endDate: record.endDate ?? null,
            version: 1,
          },
          now,
        ),
        auditOf(tableName, {
          subject: record.nhsNumber,
          action: 'PLAN_CREATED',
          outcome: 'SUCCESS',
          actor,
          at: now,
          planType: record.planType,
          councilCode,
        }),
        statusCheck(tableName, record.nhsNumber, true),
      ]),
    }),
  );
}
