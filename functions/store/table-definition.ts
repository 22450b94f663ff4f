/**
 * The table's physical shape, shared by the CDK data stack and the local runtime so both build the
 * same table. Key semantics live in table.ts.
 */
export const tableDefinition = {
  partitionKey: 'PK',
  sortKey: 'SK',
  ttlAttribute: 'expiresAt',
  indexes: [{ name: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' }],
  /** Only outbox inserts reach the dispatch function (Lambda event filter pattern). */
  dispatchFilterPattern: {
    eventName: ['INSERT'],
    dynamodb: { Keys: { PK: { S: [{ prefix: 'OUTBOX#' }] } } },
  },
  /** Leading-key prefix of audit items: no function may update or delete them. */
  auditKeyPrefix: 'AUDIT#',
} as const;
