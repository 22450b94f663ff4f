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
import type { AuditAction, AuditOutcome } from '../../functions/core/schemas';
import { accessHistoryQuery } from '../../functions/store/audit';
import { newId } from '../../functions/store/ids';
import { type AuditEntry, type AuditExtras, auditItem, planItem } from '../../functions/store/items';
import { keys, PLAN_RANGE, SK_PROFILE, SK_STATUS } from '../../functions/store/keys';
import { statusCheck } from '../../functions/store/plans';
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
  const plans: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page: QueryCommandOutput = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.child(nhsNumber) },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) if ((item.SK as string).startsWith(PLAN_RANGE)) plans.push(item);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
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
