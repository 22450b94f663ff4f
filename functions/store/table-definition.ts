/**
 * The table's physical shape, shared by the CDK data stack and the local runtime so both build the
 * same table. Key semantics live in table.ts.
 */
/** Leading-key prefix of audit items. */
const AUDIT_KEY_PREFIX = 'AUDIT#';
/** The attribute (true) of an audit event that carries council messages in `messages`. */
const NOTIFIES_ATTRIBUTE = 'notifies';

export const tableDefinition = {
  partitionKey: 'PK',
  sortKey: 'SK',
  indexes: [{ name: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' }],
  /**
   * What reaches the dispatch function (Lambda event filter patterns; a record matching any passes):
   * inserts of audit events that carry council messages, to deliver them, and any change to or removal
   * of an audit item, which no function may make (IAM cannot forbid a PutItem that overwrites one), to
   * raise the AuditTrailChanged alarm.
   */
  dispatchFilterPatterns: [
    {
      eventName: ['INSERT'],
      dynamodb: {
        Keys: { PK: { S: [{ prefix: AUDIT_KEY_PREFIX }] } },
        NewImage: { [NOTIFIES_ATTRIBUTE]: { BOOL: [true] } },
      },
    },
    { eventName: ['MODIFY', 'REMOVE'], dynamodb: { Keys: { PK: { S: [{ prefix: AUDIT_KEY_PREFIX }] } } } },
  ],
  notifiesAttribute: NOTIFIES_ATTRIBUTE,
  /** Epoch seconds after which a plan can no longer be visible: the table's time-to-live attribute. */
  timeToLiveAttribute: 'expiresAt',
  /** Leading-key prefix of audit items: no function may update or delete them. */
  auditKeyPrefix: AUDIT_KEY_PREFIX,
  /**
   * Leading-key prefix of coalesced refusals (ACCESS_DENIED with a count): the one audit record that
   * grows, so it lives apart from the append-only items, and API functions may update only these.
   */
  refusalKeyPrefix: 'REFUSALS#',
  /** The dispatch function's log message for such a change; a metric filter on it raises the alarm. */
  auditChangedMessage: 'An audit event was changed or removed',
  /** Its log message for a notification to a council no region of the stage has a queue for. */
  undeliverableMessage: 'No region of this stage has a queue for the council: notification not delivered',
} as const;
