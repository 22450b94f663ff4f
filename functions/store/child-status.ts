/** An NHS number's status item: the demographics service's sensitivity flag and supersession mark. */
import { auditPut } from './audit';
import { batchGet } from './batch-get';
import type { StoreContext } from './context';
import { type AuditEntry, type NhsNumberMarkers, parseStatus } from './items';
import { nhsNumberOf, statusKey } from './keys';
import { transact } from './transactions';

export class ChildStatusRepository {
  constructor(private readonly store: StoreContext) {}

  /** Supersession and sensitivity of many NHS numbers (strongly consistent). */
  async readMarkers(nhsNumbers: readonly string[]): Promise<Map<string, NhsNumberMarkers>> {
    const unique = [...new Set(nhsNumbers)];
    const items = await batchGet(this.store, unique.map(statusKey), true);
    const statuses = new Map(items.map((item) => [nhsNumberOf(String(item.PK)), item]));
    return new Map(
      unique.map((nhsNumber) => {
        const { replaces: _replaces, ...markers } = parseStatus(statuses.get(nhsNumber));
        return [nhsNumber, markers];
      }),
    );
  }

  /** Records the demographics service's sensitivity flag; returns false (writing nothing) when unchanged. */
  async setSensitivity(nhsNumber: string, sensitive: boolean, audit: AuditEntry): Promise<boolean> {
    const markers = (await this.readMarkers([nhsNumber])).get(nhsNumber);
    if ((markers?.sensitive ?? false) === sensitive) return false;
    await transact(this.store, [
      {
        Update: {
          TableName: this.store.tableName,
          Key: statusKey(nhsNumber),
          UpdateExpression: 'SET kind = :kind, #sensitive = :sensitive, updatedAt = :at',
          ExpressionAttributeNames: { '#sensitive': 'sensitive' },
          ExpressionAttributeValues: { ':kind': 'STATUS', ':sensitive': sensitive, ':at': audit.at },
        },
      },
      auditPut(this.store.tableName, audit),
    ]);
    return true;
  }
}
