/**
 * Which DynamoDB actions each function may use on the table: named actions only, never `dynamodb:*`,
 * never Scan. The audit trail is append-only for every function role, whatever it is allowed here.
 */
import { tableDefinition } from '../../functions/store/table-definition';

export type ItemAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:PutItem'
  | 'dynamodb:ConditionCheckItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem';

export interface TableAccess {
  readonly actions: readonly ItemAction[];
  /** Query the global secondary indexes too. */
  readonly indexes?: boolean;
}

/**
 * What each API entry does with the table (see functions/store/table.ts). Every API function may
 * PutItem: it appends audit events (ACCESS_DENIED included) and writes its items in transactions,
 * whose Put, Update, Delete and ConditionCheck parts are authorized as PutItem, UpdateItem, DeleteItem,
 * ConditionCheckItem. test/integration/reliability/iam-actions.test.ts checks each entry against the
 * requests its function really sends.
 */
export const API_TABLE_ACCESS: Readonly<Record<string, TableAccess>> = {
  'register-council': { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'] },
  'put-plan': { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'] },
  'delete-plan': { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'] },
  lookup: { actions: ['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:PutItem'] },
  'audit-query': { actions: ['dynamodb:Query', 'dynamodb:PutItem'] },
  // Snapshot uploads list the council's plans from its index.
  upload: {
    actions: ['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'],
    indexes: true,
  },
  // Moves plans: deletes them under the old number and puts them under the new one; marks the old
  // number's status item (an Update).
  supersede: {
    actions: [
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:ConditionCheckItem',
    ],
  },
  // Sets the flag on the number's status item (an Update).
  sensitivity: { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] },
};

/**
 * A route added to routes.ts without an entry above still deploys, with item reads and writes but no
 * Scan and, like every function, no way to change or remove audit items. Name it above to narrow it.
 */
export const DEFAULT_API_TABLE_ACCESS: TableAccess = {
  actions: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
  indexes: true,
};

export function apiTableAccess(entry: string): TableAccess {
  return API_TABLE_ACCESS[entry] ?? DEFAULT_API_TABLE_ACCESS;
}

/** Actions that change or remove existing items: denied on audit items to every function role. */
export const AUDIT_IMMUTABLE_ACTIONS = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
] as const;

/** IAM condition matching any request whose partition keys include an audit item's. */
export const AUDIT_LEADING_KEYS_CONDITION = {
  'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [`${tableDefinition.auditKeyPrefix}*`] },
};

export const READ_ACTIONS: readonly ItemAction[] = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
];
