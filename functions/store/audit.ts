/** The audit trail: append-only events, the access history, and paging through a subject's events. */
import { createHash } from 'node:crypto';
import { PutCommand, QueryCommand, type QueryCommandOutput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { MAX_PREVIOUS_ACCESSES, recentAccesses } from '../core/access-history';
import type { AuditEvent, CouncilMessage, PreviousAccess } from '../core/schemas';
import type { StoreContext } from './context';
import { type AuditEntry, type AuditExtras, auditItem, parseAccess, parseAuditEvent } from './items';
import { ACCESS_RANGE, AUDIT_RANGES, auditPosition, EVENT_RANGE, keys } from './keys';
import { runPool } from './pool';
import { MAX_TRANSACTION_ITEMS, sendTransaction, transact } from './transactions';

const AUDIT_TRANSACTIONS_IN_FLIGHT = 4;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID-shaped id (26 Crockford characters) derived from the caller and the minute. */
function refusalId(sub: string, org: string, minute: string): string {
  const digest = createHash('sha256').update(`${org}\u0000${sub}\u0000${minute}`).digest();
  return Array.from({ length: 26 }, (_, i) => CROCKFORD[(digest[i] as number) % 32]).join('');
}

export interface NotifyingLookup {
  /** The lookup's audit event about the NHS number whose plans it found: its access record. */
  access: AuditEntry;
  setting: string | null;
  roleName: string | null;
  organisationName: string | null;
  /** Its audit events about other numbers it is about (a superseded number it was asked by). */
  others: readonly AuditEntry[];
  messages: readonly CouncilMessage[];
}

export interface AuditPage {
  events: AuditEvent[];
  /** The last event's position (`<at>#<id>`) when more may follow. */
  lastKey?: string;
}

/** A Put of a new audit item; its key holds an event id made for this write, so it never overwrites. */
export function auditPut(tableName: string, entry: AuditEntry, extras?: AuditExtras) {
  return {
    Put: {
      TableName: tableName,
      Item: auditItem(entry, extras),
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

/** The Query of one NHS number's most recent accesses, newest first. */
export function accessHistoryQuery(tableName: string, nhsNumber: string) {
  return {
    TableName: tableName,
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :access)',
    ExpressionAttributeValues: { ':pk': keys.audit(nhsNumber), ':access': ACCESS_RANGE },
    ScanIndexForward: false,
    Limit: MAX_PREVIOUS_ACCESSES,
  };
}

export class AuditRepository {
  constructor(private readonly store: StoreContext) {}

  async append(entry: AuditEntry): Promise<void> {
    await this.putNew(auditPut(this.store.tableName, entry).Put);
  }

  /** Audit events of one act about several subjects: all written, or none. */
  async appendAll(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 1) await this.append(entries[0] as AuditEntry);
    else
      await transact(
        this.store,
        entries.map((entry) => auditPut(this.store.tableName, entry)),
      );
  }

  /**
   * A refused call (ACCESS_DENIED), coalesced: one item per caller, subject and minute, whose count
   * grows with each refusal, so that repeated refusals cannot flood the trail. Its key is derived from
   * the caller and the minute, so concurrent refusals meet on the same item.
   */
  async recordRefusal(entry: AuditEntry): Promise<void> {
    const minute = new Date(Math.floor(Date.parse(entry.at) / 60_000) * 60_000).toISOString();
    const eventId = refusalId(entry.actor.sub, entry.actor.org, minute);
    await this.store.client.send(
      new UpdateCommand({
        TableName: this.store.tableName,
        Key: { PK: keys.refusals(entry.subject), SK: keys.auditEvent(minute, eventId) },
        UpdateExpression:
          'SET #kind = :kind, #eventId = :eventId, #at = if_not_exists(#at, :at), #action = :action, ' +
          '#outcome = :outcome, #actor = if_not_exists(#actor, :actor), #lastAt = :at' +
          (entry.planType ? ', #planType = if_not_exists(#planType, :planType)' : '') +
          (entry.councilCode ? ', #councilCode = if_not_exists(#councilCode, :councilCode)' : '') +
          ' ADD #count :one',
        ExpressionAttributeNames: {
          '#kind': 'kind',
          '#eventId': 'eventId',
          '#at': 'at',
          '#action': 'action',
          '#outcome': 'outcome',
          '#actor': 'actor',
          '#lastAt': 'lastAt',
          '#count': 'count',
          ...(entry.planType ? { '#planType': 'planType' } : {}),
          ...(entry.councilCode ? { '#councilCode': 'councilCode' } : {}),
        },
        ExpressionAttributeValues: {
          ':kind': 'AUDIT',
          ':eventId': eventId,
          ':at': entry.at,
          ':action': entry.action,
          ':outcome': entry.outcome,
          ':actor': {
            sub: entry.actor.sub,
            name: entry.actor.name,
            org: entry.actor.org,
            role: entry.actor.role,
          },
          ':one': 1,
          ...(entry.planType ? { ':planType': entry.planType } : {}),
          ...(entry.councilCode ? { ':councilCode': entry.councilCode } : {}),
        },
      }),
    );
  }

  /**
   * Independent audit events (one per upload row, say), in transactions of up to 100 items a few at a
   * time: each is written once, whether or not the others are.
   */
  async appendEach(entries: readonly AuditEntry[]): Promise<void> {
    const tasks = [];
    for (let i = 0; i < entries.length; i += MAX_TRANSACTION_ITEMS) {
      const chunk = entries.slice(i, i + MAX_TRANSACTION_ITEMS);
      tasks.push(() =>
        chunk.length === 1
          ? this.append(chunk[0] as AuditEntry)
          : sendTransaction(
              this.store,
              chunk.map((entry) => auditPut(this.store.tableName, entry)),
            ),
      );
    }
    await runPool(tasks, AUDIT_TRANSACTIONS_IN_FLIGHT);
  }

  /**
   * A notifying lookup that found plans: its access record, which is its audit event and carries the
   * council messages, plus any other audit events of the lookup. One PutItem, or all in one transaction.
   */
  async recordNotifyingLookup(lookup: NotifyingLookup): Promise<void> {
    const access = auditPut(this.store.tableName, lookup.access, {
      access: {
        setting: lookup.setting,
        roleName: lookup.roleName,
        organisationName: lookup.organisationName,
      },
      messages: lookup.messages,
    });
    if (lookup.others.length === 0) await this.putNew(access.Put);
    else
      await transact(this.store, [
        access,
        ...lookup.others.map((entry) => auditPut(this.store.tableName, entry)),
      ]);
  }

  /**
   * A child's most recent accesses, newest first: one Query, however many numbers were merged into this
   * one (a supersession carries the old number's recent accesses over).
   */
  async readAccesses(nhsNumber: string): Promise<PreviousAccess[]> {
    return recentAccesses((await this.recentAccessItems(nhsNumber)).map(parseAccess));
  }

  /** The items behind readAccesses, as stored: what a supersession carries to the new number. */
  async recentAccessItems(nhsNumber: string): Promise<Record<string, unknown>[]> {
    const page = await this.store.client.send(
      new QueryCommand(accessHistoryQuery(this.store.tableName, nhsNumber)),
    );
    return page.Items ?? [];
  }

  /**
   * One page of a subject's audit events, newest first, after the event at `afterPosition`. Accesses and
   * other events are two ranges of the partition: each is read backwards from the position (one more
   * than the page, to know whether more follow) and the two merged in time order.
   */
  async page(subject: string, limit: number, afterPosition?: string): Promise<AuditPage> {
    // Two ranges of the subject's audit partition, and its coalesced refusals (EVENT# keys too).
    const sources = [
      ...AUDIT_RANGES.map((prefix) => ({ pk: keys.audit(subject), prefix })),
      { pk: keys.refusals(subject), prefix: EVENT_RANGE },
    ];
    const ranges = await Promise.all(
      sources.map(async ({ pk, prefix }) => {
        const below = afterPosition === undefined ? undefined : `${prefix}${afterPosition}`;
        const found: Record<string, unknown>[] = [];
        let startKey: Record<string, unknown> | undefined;
        // Accesses carried over from a superseded number are that number's events, not this one's:
        // filtered out, so a range is read on until it gives a full page or ends.
        do {
          const result: QueryCommandOutput = await this.store.client.send(
            new QueryCommand({
              TableName: this.store.tableName,
              KeyConditionExpression: below
                ? 'PK = :pk AND SK < :below'
                : 'PK = :pk AND begins_with(SK, :prefix)',
              FilterExpression: 'attribute_not_exists(carriedFrom)',
              ExpressionAttributeValues: {
                ':pk': pk,
                ...(below ? { ':below': below } : { ':prefix': prefix }),
              },
              ScanIndexForward: false,
              Limit: limit + 1,
              ExclusiveStartKey: startKey,
            }),
          );
          // Read backwards from below `EVENT#…`, the range runs on into the ACCESS# range: cut it there.
          const items = result.Items ?? [];
          found.push(...items.filter((item) => String(item.SK).startsWith(prefix)));
          const leftRange = items.some((item) => !String(item.SK).startsWith(prefix));
          startKey = leftRange ? undefined : result.LastEvaluatedKey;
        } while (startKey && found.length <= limit);
        return found.slice(0, limit + 1);
      }),
    );
    const items = ranges
      .flat()
      .map((item) => ({ item, position: auditPosition(String(item.SK)) }))
      .sort((a, b) => (a.position < b.position ? 1 : a.position > b.position ? -1 : 0));
    const page = items.slice(0, limit);
    return {
      events: page.map(({ item }) => parseAuditEvent(item)),
      lastKey: items.length > limit ? page[page.length - 1]?.position : undefined,
    };
  }

  /**
   * Its condition can fail only when an earlier attempt of this very write committed and its answer
   * was lost (the SDK then retries): that is success, not an error.
   */
  private async putNew(put: ReturnType<typeof auditPut>['Put']): Promise<void> {
    try {
      await this.store.client.send(new PutCommand(put));
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
}
