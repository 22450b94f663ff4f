/**
 * Least privilege that works: every DynamoDB action each API function makes, as seen on the wire
 * (through a proxy in front of DynamoDB Local, which checks no IAM), is one its deployed role allows
 * (stacks/constructs/table-access.ts), and it allows nothing the function never makes. DynamoDB
 * authorizes each part of a transaction as its own action (Put as PutItem, Update as UpdateItem, ...):
 * a transaction part the role lacks fails the whole request with AccessDenied once deployed, which no
 * emulator shows.
 */
import { API_TABLE_ACCESS } from '../../../stacks/constructs/table-access';
import { publishPlan, registerCouncil, testNhsNumber, tokens } from '../harness';
import {
  type FaultProxy,
  type ObservedWrite,
  type ReliabilityService,
  startProxiedService,
  stopProxiedService,
} from './support';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

let proxy: FaultProxy;
let service: ReliabilityService;
const COUNCIL = 'E09000001';

beforeAll(async () => {
  ({ proxy, service } = await startProxiedService());
}, 60_000);

afterAll(() => stopProxiedService({ proxy, service }));

const REFUSAL_UPDATE = 'dynamodb:UpdateItem (REFUSALS#)';

/** The IAM actions a request needs; a Query of an index is marked, as the role needs the index ARN. */
function actionsOf({ operation, body }: ObservedWrite): string[] {
  if (operation === 'TransactWriteItems') {
    const parts: Record<string, string> = {
      Put: 'PutItem',
      Update: 'UpdateItem',
      Delete: 'DeleteItem',
      ConditionCheck: 'ConditionCheckItem',
    };
    return (body.TransactItems as Record<string, unknown>[]).flatMap((item) =>
      Object.keys(item).map((part) => `dynamodb:${parts[part] ?? part}`),
    );
  }
  if (operation === 'TransactGetItems') return ['dynamodb:GetItem'];
  // Recording a refusal (an update of REFUSALS#<number>) is every API function's separate grant,
  // RecordsRefusals, checked on its own below.
  if (operation === 'UpdateItem' && String(body?.Key?.PK?.S).startsWith('REFUSALS#')) return [REFUSAL_UPDATE];
  return [`dynamodb:${operation}${operation === 'Query' && body.IndexName ? ' (index)' : ''}`];
}

/** The actions the requests made while `scenario` ran (the stream poller's reads are not DynamoDB's). */
async function actionsDuring(scenario: () => Promise<unknown>): Promise<string[]> {
  proxy.takeRequests();
  await scenario();
  return [...new Set(proxy.takeRequests().flatMap(actionsOf))].sort();
}

/**
 * A role names its actions once for the table and its indexes: Query on the council index (snapshot
 * uploads) brings Query on the table with it.
 */
const GRANTED_WITH_INDEX = ['upload dynamodb:Query', 'council-read-back dynamodb:Query'];

function allowed(entry: string): string[] {
  const access = API_TABLE_ACCESS[entry];
  if (!access) throw new Error(`no table access for ${entry}`);
  return [...access.actions, ...(access.indexes ? ['dynamodb:Query (index)'] : [])].sort();
}

const expectOk = (response: { status: number }, ...statuses: number[]) =>
  expect(statuses).toContain(response.status);

it('each API function uses exactly the table actions its role allows', async () => {
  const used = new Map<string, string[]>();
  const child = testNhsNumber(9100);
  const other = testNhsNumber(9101);
  const replacement = testNhsNumber(9102);
  const council = await tokens.council(COUNCIL);
  const demographics = await tokens.demographics();

  used.set('register-council', await actionsDuring(() => registerCouncil(service, COUNCIL)));
  used.set(
    'put-plan',
    await actionsDuring(async () => {
      expectOk(await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2026-01-01' }), 201);
      expectOk(await publishPlan(service, COUNCIL, child, 'CPP', { startDate: '2026-01-02' }), 200);
      expectOk(await publishPlan(service, COUNCIL, other, 'LAC', { startDate: '2026-01-01' }), 201);
    }),
  );
  used.set(
    'lookup',
    await actionsDuring(async () => {
      expectOk(
        await service.request('GET', `/v1/children/${child}`, { token: await tokens.clinician(['B0107']) }),
        200,
      );
      expectOk(
        await service.request('GET', `/v1/children/${child}`, { token: await tokens.clinician(['B0170']) }),
        200,
      );
      expectOk(
        await service.request('GET', `/v1/children/${testNhsNumber(9199)}`, {
          token: await tokens.clinician(['B0107']),
        }),
        200,
      );
      // The presence check runs in the lookup function too.
      expectOk(
        await service.request('GET', `/v1/children/${child}/alert`, {
          token: await tokens.clinician(['B0107']),
        }),
        200,
      );
    }),
  );
  used.set(
    'council-read-back',
    await actionsDuring(async () => {
      for (const path of [`/v1/councils/${COUNCIL}`, `/v1/councils/${COUNCIL}/plans/${child}/CPP`])
        expectOk(await service.request('GET', path, { token: council }), 200);
      // A page of one with more to follow: the listing reads the council's index.
      const page = await service.request('GET', `/v1/councils/${COUNCIL}/plans?status=all&limit=1`, {
        token: council,
      });
      expectOk(page, 200);
      expect(page.body.nextCursor).not.toBeNull();
    }),
  );
  used.set(
    'council-accesses',
    await actionsDuring(async () =>
      expectOk(
        await service.request('GET', `/v1/councils/${COUNCIL}/children/${child}/accesses`, {
          token: council,
        }),
        200,
      ),
    ),
  );
  const fhirSearch = (resource: string, nhsNumber: string) =>
    `/FHIR/R4/${resource}?patient:identifier=${encodeURIComponent(`https://fhir.nhs.uk/Id/nhs-number|${nhsNumber}`)}`;
  used.set(
    'fhir-search',
    await actionsDuring(async () => {
      const unscheduled = await tokens.clinician(['B0107']);
      // An unscheduled-care access (notifying), a silent read, the access history, a child with no
      // plan, and a refusal (B0170 alone asking for an unscheduled-care access), which is audited.
      for (const [resource, nhsNumber, header, token, status] of [
        ['CareTeam', child, undefined, unscheduled, 200],
        ['CareTeam', child, 'false', unscheduled, 200],
        ['AuditEvent', child, undefined, unscheduled, 200],
        ['CareTeam', testNhsNumber(9198), 'true', unscheduled, 200],
        ['CareTeam', child, 'true', await tokens.clinician(['B0170']), 403],
      ] as const) {
        const response = await service.request('GET', fhirSearch(resource, nhsNumber), {
          token,
          headers: header === undefined ? {} : { IsUnscheduledAccessEvent: header },
        });
        expect({ resource, header, status: response.status, type: response.body?.resourceType }).toEqual({
          resource,
          header,
          status,
          type: status === 200 ? 'Bundle' : 'OperationOutcome',
        });
      }
    }),
  );
  // The CapabilityStatement is a constant: no token, and no table action at all, not even a refusal.
  const metadataActions = await actionsDuring(async () => {
    const response = await service.request('GET', '/FHIR/R4/metadata');
    expect({ status: response.status, type: response.body?.resourceType }).toEqual({
      status: 200,
      type: 'CapabilityStatement',
    });
  });
  expect(metadataActions).toEqual([]);
  used.set('fhir-metadata', metadataActions);
  used.set(
    'audit-query',
    await actionsDuring(async () => {
      expectOk(
        await service.request('GET', `/v1/audit/children/${child}`, { token: await tokens.auditor() }),
        200,
      );
      // A refusal on a valid NHS number is itself audited (ACCESS_DENIED), by every API function.
      expectOk(
        await service.request('GET', `/v1/audit/children/${child}`, {
          token: await tokens.clinician(['B0107']),
        }),
        403,
      );
    }),
  );
  used.set(
    'upload',
    await actionsDuring(async () => {
      const csv = (rows: string[]) => ['nhsNumber,planType,startDate,endDate', ...rows].join('\n');
      for (const [mode, rows] of [
        ['delta', [`${child},LAC,2026-02-01,`, `${testNhsNumber(9103)},CPP,2026-02-01,`]],
        [
          'snapshot',
          [`${child},CPP,2026-01-02,`, `${child},LAC,2026-02-01,`, `${testNhsNumber(9103)},CPP,2026-02-01,`],
        ],
      ] as const) {
        const response = await service.request(
          'POST',
          `/v1/councils/${COUNCIL}/uploads?mode=${mode}&force=true`,
          {
            token: council,
            rawBody: csv([...rows]),
            contentType: 'text/csv',
          },
        );
        expectOk(response, 200);
      }
    }),
  );
  used.set(
    'sensitivity',
    await actionsDuring(async () =>
      expectOk(
        await service.request('PUT', `/v1/nhs-numbers/${other}/sensitivity`, {
          token: demographics,
          body: { sensitive: true },
        }),
        200,
      ),
    ),
  );
  const supersede = async () =>
    expectOk(
      await service.request('POST', `/v1/nhs-numbers/${child}/superseded-by/${replacement}`, {
        token: demographics,
      }),
      200,
    );
  const marking = await actionsDuring(supersede);
  // The race its sweep mends: a plan that reached the old number as it was being marked (written here
  // directly, as the API refuses it now), moved by the change reported again.
  const { planItem } = await import('../../../functions/store/items');
  const { DynamoDBDocumentClient, PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const late = {
    nhsNumber: child,
    planType: 'UCPP' as const,
    councilCode: COUNCIL,
    startDate: '2026-01-01',
    endDate: null,
    version: 1,
  };
  await DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  }).send(
    new PutCommand({
      TableName: service.tableName,
      Item: planItem(late, new Date().toISOString()),
      ConditionExpression: 'attribute_not_exists(PK)',
    }),
  );
  const sweeping = await actionsDuring(supersede);
  used.set('supersede', [...new Set([...marking, ...sweeping])].sort());
  used.set(
    'delete-plan',
    await actionsDuring(async () =>
      expectOk(
        await service.request('DELETE', `/v1/councils/${COUNCIL}/plans/${other}/LAC`, { token: council }),
        204,
      ),
    ),
  );

  expect([...used.keys()].sort()).toEqual(Object.keys(API_TABLE_ACCESS).sort());
  // The refusal the audit function answered above was recorded through its RecordsRefusals grant.
  expect(used.get('audit-query')).toContain(REFUSAL_UPDATE);
  for (const [entry, all] of used) {
    const actions = all.filter((action) => action !== REFUSAL_UPDATE);
    // Everything it does, its role allows: anything else is AccessDenied, deployed.
    expect({ entry, notAllowed: actions.filter((action) => !allowed(entry).includes(action)) }).toEqual({
      entry,
      notAllowed: [],
    });
    // And its role allows nothing it never does.
    const unused = allowed(entry).filter(
      (action) => !actions.includes(action) && !GRANTED_WITH_INDEX.includes(`${entry} ${action}`),
    );
    expect({ entry, unused }).toEqual({ entry, unused: [] });
  }
}, 120_000);
