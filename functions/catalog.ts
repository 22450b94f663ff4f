/**
 * Every function of the service in one place: its handler file, the routes it serves, what it may do
 * with the table, its size and its environment. The stacks, the local runtime and the tests read it;
 * `satisfies` makes a function missing from it a type error. No AWS imports: the functions may read it.
 */
import type * as z from 'zod/mini';
import { environments } from './environment';
import { API_ENTRIES, type ApiEntry, type RouteDefinition, routes } from './http/routes';

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
  /**
   * Its only writes are new audit events: its role may write an item only when the item's partition
   * key is an audit key (IAM condition on `dynamodb:LeadingKeys`), in a transaction or not; its reads
   * stay unconditioned. Set it on every function that writes nothing else.
   */
  readonly writesAuditOnly?: boolean;
}

export interface FunctionSpec {
  /** Handler file functions/<entry>.ts, exporting `handler`. */
  readonly entry: string;
  readonly description: string;
  /** The table actions its role allows; none: no table access. */
  readonly table?: TableAccess;
  readonly memorySize?: number;
  readonly timeoutSeconds?: number;
  /** What it reads from its environment, checked when it starts. */
  readonly environment: z.ZodMiniType;
}

export interface ApiFunctionSpec extends FunctionSpec {
  readonly table: TableAccess;
}

/**
 * What each API function does with the table. Every one may PutItem: it appends audit events
 * (ACCESS_DENIED included) and writes its items in transactions, whose parts are authorized as PutItem,
 * UpdateItem, DeleteItem and ConditionCheckItem. test/integration/reliability/iam-actions.test.ts checks
 * each against the requests its function really sends.
 */
const apiFunctions = {
  'register-council': {
    table: { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'] },
    environment: environments.registerCouncil,
  },
  'put-plan': {
    table: { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'] },
    environment: environments.api,
  },
  'delete-plan': {
    table: { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'] },
    environment: environments.api,
  },
  // Reads plans, councils and accesses; writes its audit events (the access record included) only.
  // Also serves the presence check (operation checkAlert), which needs a subset of the same.
  lookup: {
    table: {
      actions: ['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:PutItem'],
      writesAuditOnly: true,
    },
    environment: environments.api,
  },
  // Reads the audit trail; writes only the ACCESS_DENIED events of refused calls.
  'audit-query': {
    // Reads only: a refusal it answers is recorded through the RecordsRefusals grant every API function has.
    table: { actions: ['dynamodb:Query'] },
    environment: environments.api,
  },
  // Snapshot uploads list the council's plans from its index; uploads of 5,000 records get the most
  // API Gateway allows (29 s) and a full vCPU.
  upload: {
    table: {
      actions: ['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem'],
      indexes: true,
    },
    memorySize: 1769,
    timeoutSeconds: 29,
    environment: environments.upload,
  },
  // Moves plans: deletes them under the old number and puts them under the new one; marks the old
  // number's status item (an Update).
  supersede: {
    table: {
      actions: [
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:ConditionCheckItem',
      ],
    },
    environment: environments.api,
  },
  // Sets the flag on the number's status item (an Update).
  sensitivity: {
    table: { actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] },
    environment: environments.api,
  },
  // Reads only: the registration and a plan by key, the council's plans from its index.
  'council-read-back': {
    table: { actions: ['dynamodb:BatchGetItem', 'dynamodb:Query'], indexes: true },
    environment: environments.api,
  },
  // Reads the child's plans and accesses; writes its audit events only.
  'council-accesses': {
    table: { actions: ['dynamodb:Query', 'dynamodb:PutItem'], writesAuditOnly: true },
    environment: environments.api,
  },
  // Answers the CapabilityStatement, a constant: no table, no environment, no refusals to record.
  'fhir-metadata': {
    table: { actions: [] },
    environment: environments.none,
  },
  // The FHIR searches run the lookup's use case: the lookup's table access, audit-only writes.
  'fhir-search': {
    table: {
      actions: ['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:PutItem'],
      writesAuditOnly: true,
    },
    environment: environments.api,
  },
} satisfies Record<ApiEntry, Omit<ApiFunctionSpec, 'entry' | 'description'>>;

const describe = (entry: ApiEntry) =>
  (routes.find((route) => route.entry === entry) as RouteDefinition).summary.slice(0, 256);

export const catalog = {
  api: Object.fromEntries(
    API_ENTRIES.map((entry) => [entry, { entry, description: describe(entry), ...apiFunctions[entry] }]),
  ) as unknown as Record<ApiEntry, ApiFunctionSpec>,
  authorizer: {
    entry: 'authorizer',
    description: 'Verifies bearer JWTs against the configured issuers and passes their claims on',
    environment: environments.authorizer,
  },
  dispatch: {
    entry: 'dispatch',
    description:
      'Sends the council messages of audit events from the table stream to the queues of the councils homed in this region',
    memorySize: 512,
    timeoutSeconds: 30,
    environment: environments.dispatch,
  },
} as const satisfies {
  api: Record<ApiEntry, ApiFunctionSpec>;
  authorizer: FunctionSpec;
  dispatch: FunctionSpec;
};
