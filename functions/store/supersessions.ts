/** NHS number changes: plans move to the replacement number, marked and audited in one transaction. */
import { WriteConflict } from '../core/errors';
import type { CouncilMessage } from '../core/schemas';
import { auditPut } from './audit';
import type { StoreContext } from './context';
import type { AuditEntry, StoredPlan } from './items';
import { planKey, statusKey } from './keys';
import { planPut } from './plans';
import { cancellationReasons, sendTransaction, type TransactItem } from './transactions';

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

export class SupersessionRepository {
  constructor(private readonly store: StoreContext) {}

  /**
   * Moves plans from a superseded NHS number to its replacement, marks the old number, records on the
   * new one which numbers it replaces (lookups read their access history too), audits both and notifies
   * one message per council, in one transaction. A changed plan or status refuses it (WriteConflict).
   */
  async record(change: Supersession): Promise<void> {
    const { tableName } = this.store;
    const at = change.audits[0]?.at ?? new Date().toISOString();
    const items: TransactItem[] = [
      change.alreadyMarked ? this.oldStillMarked(change) : this.markOld(change, at),
      change.alreadyMarked ? this.newNotSuperseded(change) : this.markNew(change, at),
      ...change.moves.flatMap((move): TransactItem[] => [
        {
          Delete: {
            TableName: tableName,
            Key: planKey(move.from.nhsNumber, move.from.councilCode, move.from.planType),
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': move.from.version },
          },
        },
        planPut(tableName, move.into, at, move.intoVersion),
      ]),
      ...change.audits.map((entry) =>
        auditPut(
          tableName,
          entry,
          entry.subject === change.newNhsNumber ? { messages: change.messages } : {},
        ),
      ),
    ];
    try {
      await sendTransaction(this.store, items);
    } catch (error) {
      if (cancellationReasons(error)?.some((reason) => reason.Code === 'ConditionalCheckFailed')) {
        throw new WriteConflict('VERSION');
      }
      throw error;
    }
  }

  private markOld(change: Supersession, at: string): TransactItem {
    const replacing = change.oldReplaces.length;
    return {
      Update: {
        TableName: this.store.tableName,
        Key: statusKey(change.oldNhsNumber),
        UpdateExpression: 'SET kind = :kind, newNhsNumber = :new, updatedAt = :at',
        // The numbers it replaces, as read, pass to the new number: they only ever grow.
        ConditionExpression:
          replacing === 0
            ? 'attribute_not_exists(newNhsNumber) AND attribute_not_exists(replaces)'
            : 'attribute_not_exists(newNhsNumber) AND size(replaces) = :replacing',
        ExpressionAttributeValues: {
          ':kind': 'STATUS',
          ':new': change.newNhsNumber,
          ':at': at,
          ...(replacing === 0 ? {} : { ':replacing': replacing }),
        },
      },
    };
  }

  private oldStillMarked(change: Supersession): TransactItem {
    return {
      ConditionCheck: {
        TableName: this.store.tableName,
        Key: statusKey(change.oldNhsNumber),
        ConditionExpression: 'newNhsNumber = :new',
        ExpressionAttributeValues: { ':new': change.newNhsNumber },
      },
    };
  }

  private markNew(change: Supersession, at: string): TransactItem {
    return {
      Update: {
        TableName: this.store.tableName,
        Key: statusKey(change.newNhsNumber),
        UpdateExpression: 'SET kind = :kind, updatedAt = :at ADD replaces :replaced',
        ConditionExpression: 'attribute_not_exists(newNhsNumber)',
        ExpressionAttributeValues: {
          ':kind': 'STATUS',
          ':at': at,
          ':replaced': new Set([change.oldNhsNumber, ...change.oldReplaces]),
        },
      },
    };
  }

  private newNotSuperseded(change: Supersession): TransactItem {
    return {
      ConditionCheck: {
        TableName: this.store.tableName,
        Key: statusKey(change.newNhsNumber),
        ConditionExpression: 'attribute_not_exists(newNhsNumber)',
      },
    };
  }
}
