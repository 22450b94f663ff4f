/** NHS number changes: plans move to the replacement number, marked and audited in one transaction. */
import { WriteConflict } from '../core/errors';
import type { CouncilMessage } from '../core/schemas';
import { auditPut } from './audit';
import type { StoreContext } from './context';
import { type AuditEntry, carriedAccessItem, type StoredPlan } from './items';
import { planKey, statusKey } from './keys';
import { planPut } from './plans';
import { cancellationReasons, sendTransaction, type TransactItem } from './transactions';

export interface Supersession {
  oldNhsNumber: string;
  newNhsNumber: string;
  /** When the change is recorded (default: its first audit event's time). */
  at?: string;
  /** Plans of the old number, as read, and the new number's plans they merge into. */
  moves: { from: StoredPlan; into: StoredPlan; intoVersion?: number }[];
  /** The numbers the old one replaces: the new one replaces them as well as the old one. */
  oldReplaces: readonly string[];
  /** NHS_NUMBER_SUPERSEDED events: both numbers' on the first pass, later only one carrying messages. */
  audits: AuditEntry[];
  /** Carried by the audit event about the new number. */
  messages: CouncilMessage[];
  /** The old number's most recent accesses, copied onto the new one (first pass only). */
  carriedAccesses?: readonly Record<string, unknown>[];
  /**
   * The old number already points at the new one: these are plans written under it while an earlier
   * transaction was marking it, which that transaction could not see. They move now, under the same mark.
   */
  alreadyMarked?: boolean;
}

export class SupersessionRepository {
  constructor(private readonly store: StoreContext) {}

  /**
   * One pass of a supersession, in one transaction. The first marks the old number, records on the new
   * one which numbers it replaces, carries the old number's recent accesses over (so a lookup reads one
   * number's history however many were merged), audits both numbers and moves as many plans as fit; a
   * later pass, under the same mark, moves more. A changed plan or status refuses it (WriteConflict).
   */
  async record(change: Supersession): Promise<void> {
    const { tableName } = this.store;
    const at = change.at ?? change.audits[0]?.at ?? new Date().toISOString();
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
      ...(change.carriedAccesses ?? []).map((access) => ({
        Put: {
          TableName: tableName,
          Item: carriedAccessItem(access, change.oldNhsNumber, change.newNhsNumber),
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      })),
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
