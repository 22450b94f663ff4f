/**
 * IAM for the table: what each function may do comes from the function catalogue (named actions only,
 * never `dynamodb:*`, never Scan); the audit trail is append-only for every function role, whatever it
 * is allowed there.
 */
import { type ApiFunctionSpec, catalog, type ItemAction, type TableAccess } from '../../functions/catalog';
import type { ApiEntry } from '../../functions/http/routes';
import { tableDefinition } from '../../functions/store/table-definition';

export type { ItemAction, TableAccess };

/** Each API entry's table access, as the catalogue gives it. */
export const API_TABLE_ACCESS: Readonly<Record<string, TableAccess>> = Object.fromEntries(
  Object.entries(catalog.api).map(([entry, spec]) => [entry, (spec as ApiFunctionSpec).table]),
);

/**
 * A route added to the route table under an entry the catalogue does not know (only possible in tests
 * that pass their own routes) still deploys, with item reads and writes but no Scan and, like every
 * function, no way to change or remove audit items.
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

export function apiTableAccess(entry: ApiEntry | string): TableAccess {
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

/**
 * IAM condition under which a write touches audit items only (TableAccess.writesAuditOnly). A PutItem's
 * leading keys are its item's partition key, and each Put of a TransactWriteItems is authorized as a
 * PutItem of its own item, so ForAllValues holds exactly when every item written is an audit item.
 * ForAllValues is also true of an empty set (a request naming no partition key), hence the Null check:
 * the key must be present. (ForAnyValue, as in the Deny above, would be wrong here: it admits a request
 * whose keys merely include an audit key.)
 */
export const AUDIT_KEYS_ONLY_CONDITION = {
  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${tableDefinition.auditKeyPrefix}*`] },
  Null: { 'dynamodb:LeadingKeys': 'false' },
};

/** IAM condition matching requests whose partition keys are all coalesced-refusal keys. */
export const REFUSAL_KEYS_ONLY_CONDITION = {
  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${tableDefinition.refusalKeyPrefix}*`] },
  Null: { 'dynamodb:LeadingKeys': 'false' },
};

/** Actions that read items; every other ItemAction is part of a write (ConditionCheckItem: a transaction's). */
export const READ_ACTIONS: readonly ItemAction[] = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
];
