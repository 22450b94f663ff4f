/** The council directory: each council's name and duty phone numbers, held once per council. */
import type { Council } from '../core/schemas';
import { auditPut } from './audit';
import { batchGet } from './batch-get';
import type { StoreContext } from './context';
import { queryIndexPartition } from './index-query';
import { type AuditEntry, councilItem, parseCouncil } from './items';
import { councilKey, keys } from './keys';
import { transact } from './transactions';

export class CouncilRepository {
  constructor(private readonly store: StoreContext) {}

  /** Councils by code, in one batch read. */
  async getMany(codes: readonly string[]): Promise<Map<string, Council>> {
    const items = await batchGet(this.store, [...new Set(codes)].map(councilKey));
    return new Map(items.map((item) => parseCouncil(item)).map((council) => [council.code, council]));
  }

  async get(code: string): Promise<Council | undefined> {
    return (await this.getMany([code])).get(code);
  }

  /**
   * Stores a council's directory entry, audited under the council's own key; returns false (and writes
   * nothing) when it is already so.
   */
  async put(council: Council, audit: Omit<AuditEntry, 'subject' | 'action'>): Promise<boolean> {
    const existing = await this.get(council.code);
    if (
      existing &&
      existing.name === council.name &&
      existing.officeHoursPhone === council.officeHoursPhone &&
      existing.emergencyDutyPhone === council.emergencyDutyPhone
    ) {
      return false;
    }
    await transact(this.store, [
      { Put: { TableName: this.store.tableName, Item: councilItem(council, audit.at) } },
      auditPut(this.store.tableName, {
        ...audit,
        action: existing ? 'COUNCIL_UPDATED' : 'COUNCIL_REGISTERED',
        subject: keys.council(council.code),
      }),
    ]);
    return true;
  }

  /** Every registered council's code, from the council directory in GSI1 (eventually consistent). */
  async listCodes(): Promise<string[]> {
    const items = await queryIndexPartition(this.store, keys.councilDirectory, 'GSI1SK');
    return items.map((item) => String(item.GSI1SK));
  }
}
