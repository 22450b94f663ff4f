/**
 * The cost model of docs/cost.md with this run's inputs: Lambda durations from the measured service
 * latencies (conservative: they include the local HTTP adapter and the emulator's slower calls), the
 * authorizer's and dispatch's warm durations timed here, and item sizes of the items the run wrote.
 * Must run after the lookup and publish measurements to use them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ACCESS_RANGE, EVENT_RANGE, keys, PLAN_RANGE, SK_PROFILE } from '../../functions/store/keys';
import { lambdaContext } from '../../local/http-adapter';
import { benchNhsNumber } from '../../testkit/nhs-numbers';
import { longLivedToken } from '../../testkit/tokens';
import { clinicianClaims } from '../lib/callers';
import {
  DEFAULT_INPUTS,
  DEFAULT_ITEM_BYTES,
  type ItemBytes,
  itemSize,
  lookupCost,
  PRICE_REGION,
  PRICE_SOURCES,
  PRICES,
  publishCost,
  REALISTIC_MIX,
  total,
} from '../lib/cost';
import { LOOKUP_COUNCILS } from '../lib/fixtures';
import { SEED_RANGES } from '../lib/nhs';
import { percentile, round } from '../lib/stats';
import { accessRecordInsert } from '../lib/stream-records';
import type { BenchContext, Measurement } from '../lib/types';

/** Sizes of the items the lookup and publish measurements wrote to the main table. */
async function measuredItemBytes(ctx: BenchContext): Promise<{ bytes: ItemBytes; measured: string[] }> {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const bytes: ItemBytes = { ...DEFAULT_ITEM_BYTES };
  const measured: string[] = [];
  const take = (kind: keyof ItemBytes, item: Record<string, unknown> | undefined) => {
    if (!item) return;
    bytes[kind] = itemSize(item);
    measured.push(kind);
  };
  // The measure runs on in the environment of the one before: the lookup measure's (quick mode) or the
  // cold-start measure's (a full run), whose notifying lookups of these children found a plan.
  const children = [SEED_RANGES.lookup, SEED_RANGES.cold].map(benchNhsNumber);
  const query = async (pk: (child: string) => string, skPrefix: string) => {
    for (const child of children) {
      const result = await documents.send(
        new QueryCommand({
          TableName: ctx.server.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
          ExpressionAttributeValues: { ':pk': pk(child), ':sk': skPrefix },
          Limit: 1,
        }),
      );
      if (result.Items?.[0]) return result.Items[0];
    }
    return undefined;
  };
  take('plan', await query(keys.child, PLAN_RANGE));
  take('access', await query(keys.audit, ACCESS_RANGE));
  take('audit', await query(keys.audit, EVENT_RANGE));
  const council = await documents.send(
    new ScanCommand({
      TableName: ctx.server.tableName,
      FilterExpression: 'begins_with(PK, :p) AND SK = :sk',
      ExpressionAttributeValues: { ':p': keys.council(''), ':sk': SK_PROFILE },
      Limit: 2000,
    }),
  );
  take('council', council.Items?.[0]);
  documents.destroy();
  return { bytes, measured };
}

/**
 * Warm invocation times (p50, ms) of the authorizer, verifying a fresh token each time, and of dispatch,
 * given one stream record carrying one message that it sends to a council queue: both handlers imported
 * into this process (the runner has the emulators' endpoints and the identity provider's address), as Lambda bills
 * them (rounded up to a whole ms). A first call of each warms it and is not counted.
 */
async function warmDurations(
  ctx: BenchContext,
  runs: number,
): Promise<{ authorizerMs: number; dispatchMs: number }> {
  process.env.COUNCIL_QUEUE_NAME_PREFIX = ctx.server.queuePrefix;
  await ctx.server.ensureQueues(LOOKUP_COUNCILS[0] as string);
  const authorizer = await import('../../functions/authorizer');
  const dispatch = await import('../../functions/dispatch');
  // Not a line per message in the runner's output. Set on the functions' logger itself: an earlier
  // measure may have imported it, at the level POWERTOOLS_LOG_LEVEL gave it then; and held, since
  // injectLambdaContext puts the logger back to that level at each invocation (its sampling refresh).
  const { logger } = await import('../../functions/observability');
  const level = logger.getLevelName();
  const refresh = logger.refreshSampleRateCalculation;
  logger.refreshSampleRateCalculation = () => undefined;
  logger.setLogLevel('WARN');
  const tokens = await Promise.all(
    Array.from({ length: runs + 1 }, (_, i) =>
      longLivedToken({ ...clinicianClaims(['B0107']), sub: `bench-cost-${i}` }),
    ),
  );
  const methodArn = 'arn:aws:execute-api:eu-west-2:000000000000:bench/bench/GET/v1/children/9990000018';
  const record = (i: number) =>
    accessRecordInsert({
      councilCode: LOOKUP_COUNCILS[0] as string,
      nhsNumber: benchNhsNumber(SEED_RANGES.lookup),
      eventId: `01BENCHCOST${String(i).padStart(15, '0')}`,
      sequence: i + 1,
    });
  const context = lambdaContext('dispatch', 'bench-cost');
  const timings = { authorizer: [] as number[], dispatch: [] as number[] };
  try {
    for (let i = 0; i <= runs; i++) {
      let started = performance.now();
      await authorizer.handler(
        { type: 'TOKEN', authorizationToken: `Bearer ${tokens[i]}`, methodArn },
        lambdaContext('authorizer', 'bench-cost'),
      );
      if (i > 0) timings.authorizer.push(performance.now() - started);
      started = performance.now();
      const result = await dispatch.handler({ Records: [record(i)] }, context);
      if (result.batchItemFailures.length > 0)
        throw new Error("dispatch failed to send the cost measure's message");
      if (i > 0) timings.dispatch.push(performance.now() - started);
    }
  } finally {
    logger.refreshSampleRateCalculation = refresh;
    logger.setLogLevel(level);
  }
  return {
    authorizerMs: Math.ceil(
      percentile(
        [...timings.authorizer].sort((a, b) => a - b),
        50,
      ),
    ),
    dispatchMs: Math.ceil(
      percentile(
        [...timings.dispatch].sort((a, b) => a - b),
        50,
      ),
    ),
  };
}

const dollars = (components: Record<string, number>) =>
  Object.fromEntries(Object.entries(components).map(([name, usd]) => [name, round(usd, 3)]));

export const costMeasurement: Measurement = {
  id: 'cost',
  title: 'Cost model (docs/cost.md) with this run’s durations and item sizes',
  reusesPreviousEnvironment: true,
  async run(ctx) {
    const rows = ctx.results();
    const p50 = (id: string) => rows.find((row) => row.id === id)?.value;
    const lookupMs = p50('lookup.notifying-found.c1.p50');
    const publishMs = p50('publish.c1.p50') ?? p50('publish.c16.p50');
    const { bytes, measured } = await measuredItemBytes(ctx);
    const warm = await warmDurations(ctx, ctx.settings.mode === 'quick' ? 20 : 200);
    const inputs = {
      ...DEFAULT_INPUTS,
      authorizerDurationMs: warm.authorizerMs,
      dispatchDurationMs: warm.dispatchMs,
      ...(lookupMs ? { lookupDurationMs: Math.ceil(lookupMs) } : {}),
      ...(publishMs ? { publishDurationMs: Math.ceil(publishMs) } : {}),
    };
    const scenarios = [
      {
        id: 'worst',
        label: `every lookup notifying and finding one council’s plan, ${PRICE_REGION} prices`,
        inputs,
      },
      {
        id: 'mix',
        label: `realistic mix, ${PRICE_REGION} prices: ${Math.round(REALISTIC_MIX.notifyingShare * 100)} % notifying, ${Math.round(REALISTIC_MIX.foundShare * 100)} % finding a plan (most children have none)`,
        inputs: { ...inputs, ...REALISTIC_MIX },
      },
    ];
    for (const scenario of scenarios) {
      const components = lookupCost(scenario.inputs, bytes);
      ctx.record({
        id: `cost.lookup.${scenario.id}`,
        label: `AWS cost per million lookups, ${scenario.label}`,
        unit: 'USD',
        value: round(total(components), 2),
        target: { kind: 'value', op: '<=', limit: 10 },
        details: {
          components: dollars(components),
          inputs: scenario.inputs,
          itemBytes: bytes,
          priceRegion: PRICE_REGION,
          prices: PRICES,
          priceSources: PRICE_SOURCES,
        },
      });
    }
    const publish = publishCost(inputs, bytes);
    ctx.record({
      id: 'cost.publish',
      label: 'AWS cost per million plan publishes',
      unit: 'USD',
      value: round(total(publish), 2),
      details: { components: dollars(publish), inputs, itemBytes: bytes },
    });
    ctx.note(
      `Cost: ${PRICE_REGION} list prices (sources and dates: docs/cost.md; DynamoDB request units at US East's figure, ` +
        `no source stating London’s was found), Lambda durations ${inputs.lookupDurationMs} ms (lookup) and ${inputs.publishDurationMs} ms ` +
        `(publish) from ${lookupMs ? 'this run' : 'defaults'}; ${inputs.authorizerDurationMs} ms (authorizer, a fresh token) and ` +
        `${inputs.dispatchDurationMs} ms (dispatch, one record with one message): warm p50 in the runner process; item sizes ${measured.length ? `measured (${measured.join(', ')})` : 'defaults'}; ` +
        'one replica region. Formula, inputs and components: docs/cost.md.',
    );
  },
};
