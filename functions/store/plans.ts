/** Plan pointers: a child's partition, a council's plans, and plan writes each with its audit event. */
import { QueryCommand, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { PlanWriteConflict, WriteConflict } from '../core/errors';
import type { PlanType } from '../core/plans';
import { MAX_ROWS_PER_TRANSACTION, planKey as uploadPlanKey } from '../core/uploads';
import { auditPut } from './audit';
import { batchGet } from './batch-get';
import type { StoreContext } from './context';
import { queryIndexPartition } from './index-query';
import {
  type AuditEntry,
  type NhsNumberMarkers,
  parsePlan,
  parseStatus,
  planItem,
  type StoredPlan,
} from './items';
import {
  councilKey,
  councilPlanIndexKey,
  GSI1,
  keys,
  PLAN_RANGE,
  planKey,
  SK_PROFILE,
  SK_STATUS,
  statusKey,
} from './keys';
import { runPool } from './pool';
import {
  cancellationReasons,
  MAX_TRANSACTION_ITEMS,
  sendTransaction,
  type TransactItem,
  transact,
} from './transactions';

export interface ChildView extends NhsNumberMarkers {
  plans: StoredPlan[];
  /** NHS numbers superseded by this one (directly or through a chain): their accesses are this child's. */
  replaces: string[];
}

/** A page of a council's plans; `next` is the position the following page starts after. */
export interface CouncilPlansPage {
  plans: StoredPlan[];
  next?: string;
}

const positionOf = (plan: StoredPlan): string => keys.councilPlan(plan.nhsNumber, plan.planType);

export interface PlanWriteContext extends NhsNumberMarkers {
  plan?: StoredPlan;
  councilRegistered: boolean;
}

/** A plan to write with its audit event; no `expectedVersion` means the plan must not exist yet. */
export interface PlanWrite {
  plan: StoredPlan;
  expectedVersion?: number;
  audit: AuditEntry;
}

interface TaggedItem {
  item: TransactItem;
  /** STATUS: superseded or sensitive, told apart by the status item DynamoDB returns. */
  reason: WriteConflict['reason'] | 'STATUS';
  /** Indexes of the writes this item belongs to: a status check guards every write of its number. */
  writes: number[];
}

/** Why a transaction was cancelled: the first refused condition, and every write a refused item guards. */
interface Refusal {
  conflict: PlanWriteConflict;
  atFault: ReadonlySet<number>;
}

/**
 * The check a plan write makes on its NHS number's status item: not superseded since the write was
 * decided and, for a new plan, not flagged sensitive since. On failure DynamoDB returns the item,
 * which tells the two apart.
 */
export function statusCheck(tableName: string, nhsNumber: string, newPlan: boolean) {
  return {
    ConditionCheck: {
      TableName: tableName,
      Key: statusKey(nhsNumber),
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

/** The Put of a plan, conditional on the version it replaces (or on there being none). */
export function planPut(tableName: string, plan: StoredPlan, updatedAt: string, expectedVersion?: number) {
  return {
    Put: {
      TableName: tableName,
      Item: planItem(plan, updatedAt),
      ...(expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(PK)' }
        : {
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': expectedVersion },
          }),
    },
  };
}

export class PlanRepository {
  constructor(private readonly store: StoreContext) {}

  /**
   * Markers and plans of one NHS number, from one Query of its partition; `consistent` for a read that
   * decides a write the transaction cannot guard (which plans a supersession moves).
   */
  async readChild(nhsNumber: string, { consistent = false } = {}): Promise<ChildView> {
    const view: ChildView = { plans: [], replaces: [], sensitive: false };
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: QueryCommandOutput = await this.store.client.send(
        new QueryCommand({
          TableName: this.store.tableName,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': keys.child(nhsNumber) },
          ExclusiveStartKey: startKey,
          // Sent only when asked: the field alone, even false, costs the emulator measurably (docs/adr/0006).
          ...(consistent ? { ConsistentRead: true } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const sk = String(item.SK);
        if (sk === SK_STATUS) Object.assign(view, parseStatus(item));
        else if (sk.startsWith(PLAN_RANGE)) view.plans.push(parsePlan(item));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return view;
  }

  /** What a plan write depends on: the plan itself, the council, and the NHS number's markers. */
  async readWriteContext(
    councilCode: string,
    nhsNumber: string,
    planType: PlanType,
  ): Promise<PlanWriteContext> {
    const items = await batchGet(
      this.store,
      [planKey(nhsNumber, councilCode, planType), statusKey(nhsNumber), councilKey(councilCode)],
      true,
    );
    const context: PlanWriteContext = { councilRegistered: false, sensitive: false };
    for (const item of items) {
      const sk = String(item.SK);
      if (sk === SK_PROFILE) context.councilRegistered = true;
      else if (sk === SK_STATUS) {
        const { replaces: _replaces, ...markers } = parseStatus(item);
        Object.assign(context, markers);
      } else context.plan = parsePlan(item);
    }
    return context;
  }

  /** One council's plans for these NHS number and plan type pairs, by core/uploads' planKey (consistent). */
  async readCouncilPlans(
    councilCode: string,
    pairs: readonly { nhsNumber: string; planType: string }[],
  ): Promise<Map<string, StoredPlan>> {
    const items = await batchGet(
      this.store,
      pairs.map((pair) => planKey(pair.nhsNumber, councilCode, pair.planType)),
      true,
    );
    return new Map(
      items
        .map((item) => parsePlan(item))
        .map((plan) => [uploadPlanKey(plan.nhsNumber, plan.planType), plan]),
    );
  }

  /** Every plan a council holds (from the council index, so eventually consistent). */
  async listCouncilPlans(councilCode: string): Promise<StoredPlan[]> {
    return (await queryIndexPartition(this.store, keys.councilPlans(councilCode))).map(parsePlan);
  }

  /** One plan of a council, read consistently: its version is the one a conditional write compares. */
  async readPlan(
    councilCode: string,
    nhsNumber: string,
    planType: PlanType,
  ): Promise<StoredPlan | undefined> {
    const [item] = await batchGet(this.store, [planKey(nhsNumber, councilCode, planType)], true);
    return item ? parsePlan(item) : undefined;
  }

  /**
   * One page of a council's plans in index order (NHS number, then plan type), after `after` (a
   * position, `<nhs>#<planType>`): the first `limit` that `keep` accepts, reading at most `readBudget`
   * index items. `next` is where the following page starts, absent when the council's plans are
   * exhausted; a page that spent its budget may hold fewer than `limit` plans (even none) and a `next`.
   */
  async pageCouncilPlans(
    councilCode: string,
    page: { limit: number; after?: string; keep: (plan: StoredPlan) => boolean; readBudget: number },
  ): Promise<CouncilPlansPage> {
    const plans: StoredPlan[] = [];
    let read = 0;
    let lastRead: string | undefined;
    // The first request asks for one more than a full page: when every plan is kept, one request answers.
    let ask = page.limit + 1;
    let startKey: Record<string, unknown> | undefined =
      page.after === undefined ? undefined : councilPlanIndexKey(councilCode, page.after);
    for (;;) {
      const result: QueryCommandOutput = await this.store.client.send(
        new QueryCommand({
          TableName: this.store.tableName,
          IndexName: GSI1,
          KeyConditionExpression: 'GSI1PK = :pk',
          ExpressionAttributeValues: { ':pk': keys.councilPlans(councilCode) },
          ExclusiveStartKey: startKey,
          Limit: Math.min(ask, page.readBudget - read),
        }),
      );
      for (const item of result.Items ?? []) {
        const plan = parsePlan(item);
        if (page.keep(plan)) {
          // Another plan to show beyond a full page: the next page starts after the last one shown.
          if (plans.length === page.limit)
            return { plans, next: positionOf(plans[plans.length - 1] as StoredPlan) };
          plans.push(plan);
        }
        read++;
        lastRead = positionOf(plan);
      }
      startKey = result.LastEvaluatedKey;
      if (!startKey) return { plans };
      if (plans.length === page.limit)
        return { plans, next: positionOf(plans[plans.length - 1] as StoredPlan) };
      if (read >= page.readBudget) return { plans, next: lastRead };
      // Sparse matches: read on in growing requests, so that a page costs a few requests at most.
      ask = Math.max(ask * 2, page.limit - plans.length + 1);
    }
  }

  /** Creates or replaces one plan and audits it, in one transaction. */
  async write(plan: StoredPlan, expectedVersion: number | undefined, audit: AuditEntry): Promise<void> {
    await this.writeMany([{ plan, expectedVersion, audit }]);
  }

  /**
   * Writes plans, each with its audit event, in transactions of up to `rowsPerTransaction` writes and
   * DynamoDB's 100 items (`concurrency` at once). Each transaction is all-or-nothing. One cancelled for
   * a refused condition is sent again without the writes that condition guards, so the other writes
   * land; the pool goes on with the other transactions. Then, if any condition was refused, it throws
   * PlanWriteConflict naming the first refused write, `applied` listing every write that landed.
   */
  async writeMany(
    writes: readonly PlanWrite[],
    concurrency = 4,
    rowsPerTransaction = MAX_ROWS_PER_TRANSACTION,
  ): Promise<{ applied: number[] }> {
    const applied: number[] = [];
    const conflicts: PlanWriteConflict[] = [];
    const tasks = this.planTransactions(writes, rowsPerTransaction).map((transaction) => async () => {
      let left = transaction;
      while (left.length > 0) {
        const refusal = await this.transactTagged(this.transactionItems(writes, left));
        if (!refusal) {
          applied.push(...left);
          return;
        }
        conflicts.push(refusal.conflict);
        // At least one write drops out each time, so this ends.
        left = left.filter((index) => !refusal.atFault.has(index));
      }
    });
    await runPool(tasks, concurrency);
    const [first] = conflicts.sort((a, b) => a.writeIndex - b.writeIndex);
    if (first) {
      first.applied = applied.sort((a, b) => a - b);
      throw first;
    }
    return { applied };
  }

  /** Removes a plan entered in error, auditing it in the same transaction (NOT_FOUND if it changed). */
  async delete(plan: StoredPlan, audit: AuditEntry): Promise<void> {
    await transact(this.store, [
      {
        Delete: {
          TableName: this.store.tableName,
          Key: planKey(plan.nhsNumber, plan.councilCode, plan.planType),
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': plan.version },
        },
      },
      auditPut(this.store.tableName, audit),
    ]);
  }

  private writeItems(write: PlanWrite, index: number): TaggedItem[] {
    const { tableName } = this.store;
    return [
      {
        item: planPut(tableName, write.plan, write.audit.at, write.expectedVersion),
        reason: 'VERSION',
        writes: [index],
      },
      { item: auditPut(tableName, write.audit), reason: 'VERSION', writes: [index] },
    ];
  }

  /**
   * One status check per NHS number per transaction (DynamoDB refuses two operations on one item in a
   * transaction): the first write of a number adds it; a later new plan of the same number makes it
   * the stricter new-plan check.
   */
  private statusChecks(write: PlanWrite, index: number, checks: Map<string, TaggedItem>): TaggedItem[] {
    const nhsNumber = write.plan.nhsNumber;
    const newPlan = write.expectedVersion === undefined;
    const existing = checks.get(nhsNumber);
    if (existing) {
      existing.writes.push(index);
      if (newPlan) existing.item = statusCheck(this.store.tableName, nhsNumber, true);
      return [];
    }
    const tagged: TaggedItem = {
      item: statusCheck(this.store.tableName, nhsNumber, newPlan),
      reason: 'STATUS',
      writes: [index],
    };
    checks.set(nhsNumber, tagged);
    return [tagged];
  }

  /** The items of one transaction holding these writes (each write's plan and audit event, then its check). */
  private transactionItems(writes: readonly PlanWrite[], indexes: readonly number[]): TaggedItem[] {
    const checks = new Map<string, TaggedItem>();
    return indexes.flatMap((index) => {
      const write = writes[index] as PlanWrite;
      return [...this.writeItems(write, index), ...this.statusChecks(write, index, checks)];
    });
  }

  /**
   * Splits writes into transactions (their indexes) of at most `rowsPerTransaction` writes and 100
   * items. The council's registration is checked when the write is prepared, not inside the
   * transaction: a ConditionCheck on the one profile item would make every concurrent plan write of a
   * council conflict with every other (docs/adr/0008).
   */
  private planTransactions(writes: readonly PlanWrite[], rowsPerTransaction: number): number[][] {
    const transactions: number[][] = [];
    let current: number[] = [];
    let items = 0;
    let numbers = new Set<string>();
    writes.forEach((write, index) => {
      // A write adds its plan and audit event, and a status check unless its number already has one.
      const added = numbers.has(write.plan.nhsNumber) ? 2 : 3;
      if (
        current.length > 0 &&
        (current.length >= rowsPerTransaction || items + added > MAX_TRANSACTION_ITEMS)
      ) {
        transactions.push(current);
        current = [];
        items = 0;
        numbers = new Set();
      }
      current.push(index);
      items += numbers.has(write.plan.nhsNumber) ? 2 : 3;
      numbers.add(write.plan.nhsNumber);
    });
    if (current.length > 0) transactions.push(current);
    return transactions;
  }

  /**
   * Sends one transaction: undefined when it landed; when conditions refused it, the first refused
   * condition's conflict and every write the refused items belong to. Any other failure is thrown.
   */
  private async transactTagged(tagged: TaggedItem[]): Promise<Refusal | undefined> {
    try {
      await sendTransaction(
        this.store,
        tagged.map((entry) => entry.item),
      );
      return undefined;
    } catch (error) {
      const reasons = cancellationReasons(error);
      const refused = (reasons ?? []).flatMap((reason, index) =>
        reason.Code === 'ConditionalCheckFailed' && tagged[index] ? [index] : [],
      );
      const [failed] = refused;
      const entry = failed === undefined ? undefined : tagged[failed];
      if (failed === undefined || !entry) throw error;
      const supersededBy = reasons?.[failed]?.Item?.newNhsNumber as string | undefined;
      const reason = entry.reason !== 'STATUS' ? entry.reason : supersededBy ? 'SUPERSEDED' : 'SENSITIVE';
      return {
        conflict: new PlanWriteConflict(new WriteConflict(reason, supersededBy), entry.writes[0] as number),
        atFault: new Set(refused.flatMap((index) => (tagged[index] as TaggedItem).writes)),
      };
    }
  }
}
