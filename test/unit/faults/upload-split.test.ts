/**
 * A bulk upload writing several rows per transaction when one row's condition is refused (injected with
 * aws-sdk-client-mock over a small table that evaluates the store's conditions as DynamoDB does: all or
 * nothing, a reason per item). The transaction is sent again without the row at fault, so the good rows
 * land in the same round; the faulty row is decided afresh; no row is written twice; and the results
 * and the table match the one-row-per-transaction path.
 */

import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { testNhsNumber } from '../../../testkit/nhs-numbers';

process.env.AWS_REGION ??= 'eu-west-2';
const TABLE = 'unit-upload-split';
const COUNCIL = 'E09000001';
const ACTOR = { sub: 'la-system', name: 'Case system', org: COUNCIL, role: 'council' as const };
const dynamodb = mockClient(DynamoDBDocumentClient);

type Item = Record<string, unknown>;
type TransactItem = { [kind: string]: { Key?: Item; Item?: Item } & Record<string, unknown> };

/** The fake table: items by PK and SK; every transaction sent, and which landed. */
let items: Map<string, Item>;
let sent: { transaction: TransactItem[]; landed: boolean }[];
/** Another writer, acting just before a transaction is evaluated. */
let beforeTransaction: (transaction: TransactItem[]) => void;
/** Report only the first refused condition, as a cautious reading of DynamoDB's reasons allows. */
let firstReasonOnly: boolean;

const keyOf = (item: Item) => `${item.PK}|${item.SK}`;

/** The store's condition expressions, evaluated against the item they name. */
function holds(entry: Record<string, unknown>, existing: Item | undefined): boolean {
  const values = (entry.ExpressionAttributeValues ?? {}) as Item;
  switch (entry.ConditionExpression) {
    case undefined:
      return true;
    case 'attribute_not_exists(PK)':
      return existing === undefined;
    case 'version = :expected':
      return existing?.version === values[':expected'];
    case 'attribute_not_exists(newNhsNumber)':
      return existing?.newNhsNumber === undefined;
    case 'attribute_not_exists(newNhsNumber) AND (attribute_not_exists(#sensitive) OR #sensitive <> :true)':
      return existing?.newNhsNumber === undefined && existing?.sensitive !== true;
    default:
      throw new Error(`The fake table does not know the condition ${String(entry.ConditionExpression)}`);
  }
}

beforeEach(() => {
  items = new Map();
  sent = [];
  beforeTransaction = () => {};
  firstReasonOnly = false;
  items.set(`COUNCIL#${COUNCIL}|PROFILE`, {
    PK: `COUNCIL#${COUNCIL}`,
    SK: 'PROFILE',
    kind: 'COUNCIL',
    code: COUNCIL,
    name: 'Council',
    emergencyDutyPhone: '0161 234 5678',
  });
  dynamodb.reset();
  dynamodb.on(BatchGetCommand).callsFake((input) => {
    const requests = input.RequestItems as Record<string, { Keys: Item[] }>;
    return {
      Responses: Object.fromEntries(
        Object.entries(requests).map(([table, request]) => [
          table,
          request.Keys.map((key) => items.get(keyOf(key))).filter(Boolean),
        ]),
      ),
    };
  });
  dynamodb.on(PutCommand).callsFake((input) => {
    items.set(keyOf(input.Item as Item), input.Item as Item);
    return {};
  });
  dynamodb.on(TransactWriteCommand).callsFake((input) => {
    const transaction = input.TransactItems as TransactItem[];
    beforeTransaction(transaction);
    const reasons = transaction.map((entry) => {
      const [operation] = Object.values(entry) as [{ Key?: Item; Item?: Item } & Item];
      const existing = items.get(keyOf(operation.Key ?? (operation.Item as Item)));
      if (holds(operation, existing)) return { Code: 'None' };
      return {
        Code: 'ConditionalCheckFailed',
        ...(operation.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && existing
          ? { Item: marshall(existing) }
          : {}),
      };
    });
    const refused = reasons.findIndex((reason) => reason.Code === 'ConditionalCheckFailed');
    if (refused >= 0) {
      sent.push({ transaction, landed: false });
      throw new TransactionCanceledException({
        message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
        $metadata: {},
        CancellationReasons: firstReasonOnly
          ? reasons.map((reason, index) => (index === refused ? reason : { Code: 'None' }))
          : reasons,
      });
    }
    for (const entry of transaction) {
      const put = entry.Put?.Item;
      if (put) items.set(keyOf(put), put);
    }
    sent.push({ transaction, landed: true });
    return {};
  });
});

async function upload(csvRows: string[], rowsPerTransaction?: number) {
  const { createDocumentClient, createStore } = await import('../../../functions/store');
  const { uploadPlans, parseCsvUpload } = await import('../../../functions/features/upload-plans');
  const store = createStore({ client: createDocumentClient(), tableName: TABLE });
  const csv = ['nhsNumber,planType,startDate,endDate', ...csvRows].join('\n');
  return uploadPlans(
    store,
    { councilCode: COUNCIL, upload: parseCsvUpload(csv), mode: 'delta', actor: ACTOR },
    { writeConcurrency: 1, snapshotMaxEndShare: 0.1, rowsPerTransaction },
  );
}

const numbers = Array.from({ length: 6 }, (_, i) => testNhsNumber(7100 + i * 10));
const [A, B, C, D, E, F] = numbers as [string, string, string, string, string, string];
const NEW_NUMBER = testNhsNumber(7900);

function seedPlan(nhsNumber: string, planType: string, startDate: string, version: number) {
  const item = {
    PK: `CHILD#${nhsNumber}`,
    SK: `PLAN#${COUNCIL}#${planType}`,
    kind: 'PLAN',
    nhsNumber,
    planType,
    councilCode: COUNCIL,
    startDate,
    version,
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
  items.set(keyOf(item), item);
}

/** The plans a transaction puts. */
const plansIn = (transaction: TransactItem[]) =>
  transaction.map((item) => item.Put?.Item).filter((item): item is Item => item?.kind === 'PLAN');
/** The plan transactions sent (not the refusal events' own). */
const planTransactions = () => sent.filter((entry) => plansIn(entry.transaction).length > 0);
/** Each landed plan transaction's plan puts, as `<nhs> <type> v<version>`. */
const landedPlans = () =>
  planTransactions()
    .filter((entry) => entry.landed)
    .map((entry) =>
      plansIn(entry.transaction).map((item) => `${item.nhsNumber} ${item.planType} v${item.version}`),
    );
/** The NHS numbers whose plans each plan transaction (landed or not) puts. */
const planNumbers = () =>
  planTransactions().map((entry) => plansIn(entry.transaction).map((item) => item.nhsNumber));
/** The audit events the table holds, as `<subject> <action>`, sorted. */
const auditEvents = () =>
  [...items.values()]
    .filter((item) => String(item.SK).startsWith('EVENT#'))
    .map((item) => `${String(item.PK).replace(/^[A-Z]+#/, '')} ${item.action}`)
    .sort();
/** The plans the table holds, without their write times. */
const plans = () =>
  [...items.values()]
    .filter((item) => item.kind === 'PLAN')
    .map(({ updatedAt: _, ...plan }) => plan)
    .sort((a, b) => keyOf(a).localeCompare(keyOf(b)));

const FILE = [
  `${A},CPP,2026-01-01,`,
  `${B},CPP,2026-01-02,`,
  `${C},CPP,2026-01-03,`,
  `${D},CPP,2026-01-04,`,
  `${E},CPP,2026-01-05,`,
  `${F},CPP,2026-01-06,`,
];

describe('rows per transaction', () => {
  it.each([
    [1, 6],
    [2, 3],
    [4, 2],
    [undefined, 1],
  ])('with %s rows per transaction, writes six rows in %i transactions', async (rows, transactions) => {
    const response = await upload(FILE, rows);
    expect(response.results.map((row) => row.outcome)).toEqual(Array(6).fill('CREATED'));
    expect(sent).toHaveLength(transactions);
    expect(landedPlans().flat()).toHaveLength(6);
  });
});

describe('a transaction cancelled for one row', () => {
  it('lands the other rows at once, decides the faulty row afresh, and writes nothing twice', async () => {
    seedPlan(C, 'CPP', '2025-06-01', 1);
    let changed = false;
    // Another writer changes C's plan after the upload read it, before its first transaction.
    beforeTransaction = () => {
      if (changed) return;
      changed = true;
      seedPlan(C, 'CPP', '2025-07-01', 2);
    };
    const response = await upload(FILE);
    expect(response.results).toEqual(
      numbers.map((nhsNumber, i) => ({
        row: i + 1,
        nhsNumber,
        planType: 'CPP',
        outcome: nhsNumber === C ? 'UPDATED' : 'CREATED',
      })),
    );
    // The cancelled transaction, then the same without C (in the same round), then C on its new version.
    expect(planNumbers()).toEqual([numbers, [A, B, D, E, F], [C]]);
    expect(sent.map((entry) => entry.landed)).toEqual([false, true, true]);
    expect(landedPlans().flat()).toEqual([
      `${A} CPP v1`,
      `${B} CPP v1`,
      `${D} CPP v1`,
      `${E} CPP v1`,
      `${F} CPP v1`,
      `${C} CPP v3`,
    ]);
    expect(auditEvents()).toEqual(
      numbers.map((n) => `${n} ${n === C ? 'PLAN_UPDATED' : 'PLAN_CREATED'}`).sort(),
    );
  });

  it('lands the good rows even when the faulty row keeps changing through every round (409)', async () => {
    seedPlan(C, 'CPP', '2025-06-01', 1);
    let version = 1;
    beforeTransaction = (transaction) => {
      const putsC = transaction.some(
        (item) => item.Put?.Item?.kind === 'PLAN' && item.Put.Item.nhsNumber === C,
      );
      if (putsC) seedPlan(C, 'CPP', `2025-0${++version}-01`, version);
    };
    await expect(upload(FILE)).rejects.toMatchObject({ name: 'RuleViolation', kind: 'CONFLICT' });
    expect(planNumbers()).toEqual([numbers, [A, B, D, E, F], [C], [C]]);
    expect(landedPlans()).toEqual([[A, B, D, E, F].map((n) => `${n} CPP v1`)]);
    expect(auditEvents()).toEqual([A, B, D, E, F].map((n) => `${n} PLAN_CREATED`).sort());
  });

  it('sets aside every row a refused status check guards, and rejects them when the number was superseded', async () => {
    seedPlan(B, 'LAC', '2025-06-01', 1);
    const rows = [
      `${A},CPP,2026-01-01,`,
      `${B},LAC,2025-06-01,2026-01-31`,
      `${B},CPP,2026-01-02,`,
      `${C},CPP,2026-01-03,`,
    ];
    let superseded = false;
    beforeTransaction = () => {
      if (superseded) return;
      superseded = true;
      items.set(`CHILD#${B}|STATUS`, {
        PK: `CHILD#${B}`,
        SK: 'STATUS',
        kind: 'STATUS',
        newNhsNumber: NEW_NUMBER,
      });
    };
    const response = await upload(rows);
    expect(response.results.map((row) => [row.nhsNumber, row.outcome, row.code])).toEqual([
      [A, 'CREATED', undefined],
      [B, 'REJECTED', 'NHS_NUMBER_SUPERSEDED'],
      [B, 'REJECTED', 'NHS_NUMBER_SUPERSEDED'],
      [C, 'CREATED', undefined],
    ]);
    expect(planNumbers()).toEqual([
      [A, B, B, C],
      [A, C],
    ]);
    expect(landedPlans()).toEqual([[`${A} CPP v1`, `${C} CPP v1`]]);
    expect(auditEvents()).toEqual(
      [`${A} PLAN_CREATED`, `${C} PLAN_CREATED`, `${B} PLAN_REFUSED`, `${B} PLAN_REFUSED`].sort(),
    );
  });

  it.each([
    ['every refused condition reported', false, [numbers, [A, C, E, F], [B, D]]],
    ['only the first refused condition reported', true, [numbers, [A, C, D, E, F], [A, C, E, F], [B, D]]],
  ])('isolates two faulty rows of one transaction with %s', async (_name, firstOnly, expected) => {
    firstReasonOnly = firstOnly;
    let changed = false;
    // Another writer creates B's and D's plans (other dates) just before the first transaction.
    beforeTransaction = () => {
      if (changed) return;
      changed = true;
      seedPlan(B, 'CPP', '2025-01-01', 1);
      seedPlan(D, 'CPP', '2025-01-01', 1);
    };
    const response = await upload(FILE);
    expect(response.results.map((row) => row.outcome)).toEqual([
      'CREATED',
      'UPDATED',
      'CREATED',
      'UPDATED',
      'CREATED',
      'CREATED',
    ]);
    expect(planNumbers()).toEqual(expected);
    const landed = landedPlans().flat();
    expect(new Set(landed).size).toBe(landed.length);
    expect(landed.sort()).toEqual(numbers.map((n) => `${n} CPP v${n === B || n === D ? 2 : 1}`).sort());
  });

  it('answers and writes the same with one row per transaction as with many, under the same fault', async () => {
    const run = async (rowsPerTransaction?: number) => {
      items = new Map([...items].filter(([key]) => key.startsWith('COUNCIL#')));
      sent = [];
      seedPlan(C, 'CPP', '2025-06-01', 1);
      let changed = false;
      beforeTransaction = () => {
        if (changed) return;
        changed = true;
        seedPlan(C, 'CPP', '2026-01-03', 2);
        items.set(`CHILD#${E}|STATUS`, { PK: `CHILD#${E}`, SK: 'STATUS', kind: 'STATUS', sensitive: true });
      };
      const response = await upload(FILE, rowsPerTransaction);
      return { results: response.results, plans: plans(), audit: auditEvents(), transactions: sent.length };
    };
    const single = await run(1);
    const grouped = await run();
    expect(grouped.results).toEqual(single.results);
    expect(grouped.plans).toEqual(single.plans);
    expect(grouped.audit).toEqual(single.audit);
    // C now says what the row says; E was flagged sensitive before its new plan landed.
    expect(single.results.map((row) => row.code ?? row.outcome)).toEqual([
      'CREATED',
      'CREATED',
      'UNCHANGED',
      'CREATED',
      'SENSITIVE_RECORD',
      'CREATED',
    ]);
    expect(single.transactions).toBeGreaterThan(grouped.transactions);
  });
});
