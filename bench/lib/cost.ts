/**
 * The cost model of docs/cost.md, as code: AWS list prices (eu-west-2) and the per-request units of a lookup and a
 * publish, giving US dollars per million requests by price component. Keep the two in step.
 */

/** The region whose list prices PRICES holds: London, where the stages' primary region is. */
export const PRICE_REGION = 'eu-west-2';

/** eu-west-2 list prices, USD, on-demand, first tier, no free tier (each one's source: PRICE_SOURCES, docs/cost.md). */
export const PRICES = {
  apiGatewayRestPerMillion: 3.5,
  wafPerMillionRequests: 0.6,
  lambdaPerMillionRequests: 0.2,
  /** arm64, as stacks/constructs/service-function.ts deploys. */
  lambdaPerGbSecond: 0.0000133334,
  /** No source found stating London's figure: US East's, see PRICE_SOURCES. */
  dynamoWriteUnitPerMillion: 0.625,
  dynamoReadUnitPerMillion: 0.125,
  /** Global tables: a replicated write unit in each replica region, priced as a write unit. */
  dynamoReplicatedWriteUnitPerMillion: 0.625,
  sqsPerMillionRequests: 0.4,
  kmsPerTenThousandRequests: 0.03,
  logsIngestionPerGb: 0.5985,
  xrayPerMillionTracesRecorded: 5,
} as const;

export interface PriceSource {
  /** The AWS page or price-list file that publishes the figure. */
  source: string;
  /** How and when it was read (the sandbox has no web access: through stored copies). */
  read: string;
  /** False where no source states the eu-west-2 figure and a nearer one stands in (docs/cost.md says which). */
  statedForRegion: boolean;
}

const OFFER = (service: string) =>
  `https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/${service}/current/eu-west-2/index.json`;
const READ = '2026-12-07';

/** Where each price comes from; docs/cost.md has the same table. */
export const PRICE_SOURCES: Record<keyof typeof PRICES, PriceSource> = {
  apiGatewayRestPerMillion: {
    source: `https://aws.amazon.com/api-gateway/pricing/; ${OFFER('AmazonApiGateway')}`,
    read: `${READ}: price-list offer file published 2026-08-31, EUW2-ApiGatewayRequest, first 333 million`,
    statedForRegion: true,
  },
  wafPerMillionRequests: {
    source: 'https://aws.amazon.com/waf/pricing/',
    read: `${READ}: $0.60 per million requests; AWS states WAF prices are the same in every Region`,
    statedForRegion: true,
  },
  lambdaPerMillionRequests: {
    source: `https://aws.amazon.com/lambda/pricing/; ${OFFER('AWSLambda')}`,
    read: `${READ}: price-list offer file published 2026-08-31, EUW2-Request-ARM`,
    statedForRegion: true,
  },
  lambdaPerGbSecond: {
    source: `https://aws.amazon.com/lambda/pricing/; ${OFFER('AWSLambda')}`,
    read: `${READ}: price-list offer file published 2026-08-31, EUW2-Lambda-GB-Second-ARM tier 1`,
    statedForRegion: true,
  },
  dynamoWriteUnitPerMillion: {
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    read: `${READ}: no source found stating the London figure; US East (N. Virginia) figure used`,
    statedForRegion: false,
  },
  dynamoReadUnitPerMillion: {
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    read: `${READ}: no source found stating the London figure; US East (N. Virginia) figure used`,
    statedForRegion: false,
  },
  dynamoReplicatedWriteUnitPerMillion: {
    source: 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/global-tables-billing.html',
    read: `${READ}: replicated write units are priced as write units (so, as that figure, US East's)`,
    statedForRegion: false,
  },
  sqsPerMillionRequests: {
    source: `https://aws.amazon.com/sqs/pricing/; ${OFFER('AWSQueueService')}`,
    read: `${READ}: price-list offer file published 2026-09-04, EUW2-Requests-Tier1 (standard)`,
    statedForRegion: true,
  },
  kmsPerTenThousandRequests: {
    source: `https://aws.amazon.com/kms/pricing/; ${OFFER('awskms')}`,
    read: `${READ}: eu-west-2-KMS-Requests, offer file published 2026-09-11, as quoted by a public cost study`,
    statedForRegion: true,
  },
  logsIngestionPerGb: {
    source: `https://aws.amazon.com/cloudwatch/pricing/; ${OFFER('AmazonCloudWatch')}`,
    read: `${READ}: EUW2-DataProcessing-Bytes (Standard logs), offer file published 2026-09-22, as quoted by two public cost studies`,
    statedForRegion: true,
  },
  xrayPerMillionTracesRecorded: {
    source: 'https://aws.amazon.com/xray/pricing/',
    read: `${READ}: $5.00 per million traces recorded, stated without a Region; no London figure found`,
    statedForRegion: false,
  },
};

export interface CostInputs {
  /** Share of lookups made with B0107 (notifying), and share that find a visible plan. */
  notifyingShare: number;
  foundShare: number;
  /** Councils notified per notifying lookup that finds plans. */
  councilsPerFoundLookup: number;
  /** Regions holding a replica of the global table besides the one written in. */
  replicaRegions: number;
  /** Lambda memory (MB) and billed duration (ms) of the lookup and publish functions. */
  lookupMemoryMb: number;
  lookupDurationMs: number;
  publishMemoryMb: number;
  publishDurationMs: number;
  /** Authorizer invocations per request (API Gateway caches a token's answer for 5 minutes). */
  authorizerInvocationsPerRequest: number;
  authorizerMemoryMb: number;
  authorizerDurationMs: number;
  /** Dispatch: stream records per invocation, and the invocation's memory and duration. */
  dispatchRecordsPerInvocation: number;
  dispatchMemoryMb: number;
  dispatchDurationMs: number;
  /** SQS requests per council message: send, plus the council's receive and delete. */
  sqsRequestsPerMessage: number;
  /** CloudWatch Logs bytes per request (Lambda START/END/REPORT lines, the handler's line, access log). */
  logBytesPerRequest: number;
  /** Share of requests X-Ray records (default sampling: 1 a second, then 5 %). */
  tracedShare: number;
}

export const DEFAULT_INPUTS: CostInputs = {
  notifyingShare: 1,
  foundShare: 1,
  councilsPerFoundLookup: 1,
  replicaRegions: 1,
  lookupMemoryMb: 1024,
  lookupDurationMs: 50,
  publishMemoryMb: 1024,
  publishDurationMs: 50,
  authorizerInvocationsPerRequest: 1,
  authorizerMemoryMb: 1024,
  authorizerDurationMs: 20,
  dispatchRecordsPerInvocation: 1,
  dispatchMemoryMb: 512,
  dispatchDurationMs: 50,
  sqsRequestsPerMessage: 3,
  logBytesPerRequest: 1200,
  tracedShare: 0.05,
};

/**
 * The realistic mix of docs/cost.md: most lookups are notifying (unscheduled care), few find a plan (about
 * 1 % of children have one; 5 % allows for those children attending several times as often).
 */
export const REALISTIC_MIX = { notifyingShare: 0.9, foundShare: 0.05 } as const;

const lambda = (memoryMb: number, durationMs: number, invocations: number) =>
  invocations *
  (PRICES.lambdaPerMillionRequests +
    (memoryMb / 1024) * (durationMs / 1000) * PRICES.lambdaPerGbSecond * 1e6);

/** Request units of one item, rounded up as DynamoDB bills them. */
const writeUnits = (bytes: number) => Math.ceil(bytes / 1024);
const readUnitsEventual = (bytes: number) => Math.ceil(bytes / 4096) / 2;

export interface ItemBytes {
  plan: number;
  council: number;
  /** A notifying lookup's audit event that found plans: its access record, carrying one council's message. */
  access: number;
  audit: number;
}

/** Item sizes by DynamoDB's rules; the bench measures them from the items it wrote (see itemSize). */
export const DEFAULT_ITEM_BYTES: ItemBytes = {
  plan: 210,
  council: 150,
  access: 620,
  audit: 220,
};

/** Bytes one more council's message adds to an access record. */
const MESSAGE_BYTES = 380;

/** An item's size as DynamoDB bills it: names plus values (numbers about 1 byte per 2 digits, containers 3 + 1 per element). */
export function itemSize(item: Record<string, unknown>): number {
  const value = (v: unknown): number => {
    if (v === null || typeof v === 'boolean') return 1;
    if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
    if (typeof v === 'number') return Math.ceil(String(Math.abs(v)).replace(/[.-]/g, '').length / 2) + 1;
    if (Array.isArray(v)) return 3 + v.reduce((sum: number, e) => sum + 1 + value(e), 0);
    if (typeof v === 'object') {
      return (
        3 +
        Object.entries(v as Record<string, unknown>).reduce(
          (sum, [k, e]) => sum + 1 + Buffer.byteLength(k) + value(e),
          0,
        )
      );
    }
    return 0;
  };
  return Object.entries(item).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + value(v), 0);
}

function edge(inputs: CostInputs): Record<string, number> {
  return {
    'API Gateway (REST)': PRICES.apiGatewayRestPerMillion,
    'WAF (requests)': PRICES.wafPerMillionRequests,
    'Lambda: authorizer': lambda(
      inputs.authorizerMemoryMb,
      inputs.authorizerDurationMs,
      inputs.authorizerInvocationsPerRequest,
    ),
    'CloudWatch Logs': (inputs.logBytesPerRequest * 1e6 * PRICES.logsIngestionPerGb) / 2 ** 30,
    'X-Ray': inputs.tracedShare * PRICES.xrayPerMillionTracesRecorded,
  };
}

/** USD per million lookups, by component. */
export function lookupCost(
  inputs: CostInputs,
  ITEM_BYTES: ItemBytes = DEFAULT_ITEM_BYTES,
): Record<string, number> {
  const found = inputs.foundShare;
  const notifiedShare = inputs.notifyingShare * found;
  const councils = inputs.councilsPerFoundLookup;
  // Reads: one Query of the child's partition (its plans and status); if found, a BatchGet of the
  // councils and a Query of the access range of its audit trail (say 10 earlier accesses).
  const accessBytes = ITEM_BYTES.access + (councils - 1) * MESSAGE_BYTES;
  const readUnits =
    readUnitsEventual(Math.max(1, found * ITEM_BYTES.plan * councils)) +
    found * (councils * readUnitsEventual(ITEM_BYTES.council) + readUnitsEventual(10 * accessBytes));
  // Writes: one item per lookup, no transaction: a notifying lookup that finds plans writes its access
  // record (the audit event carrying the council messages), every other lookup its audit event.
  const itemUnits =
    notifiedShare * writeUnits(accessBytes) + (1 - notifiedShare) * writeUnits(ITEM_BYTES.audit);
  // Replicas receive the same item as a standard write.
  const replicated = inputs.replicaRegions * itemUnits;
  const messages = notifiedShare * councils;
  return {
    ...edge(inputs),
    'Lambda: lookup': lambda(inputs.lookupMemoryMb, inputs.lookupDurationMs, 1),
    'DynamoDB reads': readUnits * PRICES.dynamoReadUnitPerMillion,
    'DynamoDB writes (the audit event)': itemUnits * PRICES.dynamoWriteUnitPerMillion,
    'DynamoDB replicated writes': replicated * PRICES.dynamoReplicatedWriteUnitPerMillion,
    // One stream record per notifying lookup that found plans, whatever the number of councils.
    'Lambda: dispatch': lambda(
      inputs.dispatchMemoryMb,
      inputs.dispatchDurationMs,
      notifiedShare / inputs.dispatchRecordsPerInvocation,
    ),
    SQS: messages * inputs.sqsRequestsPerMessage * PRICES.sqsPerMillionRequests,
    'KMS (per request: none; see docs/cost.md)': 0,
  };
}

/** USD per million plan publishes (each creating or changing a plan), by component. */
export function publishCost(
  inputs: CostInputs,
  ITEM_BYTES: ItemBytes = DEFAULT_ITEM_BYTES,
): Record<string, number> {
  // Consistent BatchGet of 3 keys (1 unit each, found or not: the plan, the NHS number's status, the
  // council), then a transaction: plan put, audit put and the status check (each 2 units).
  const readUnits = 3;
  const transactional = 2 * (writeUnits(ITEM_BYTES.plan) + writeUnits(ITEM_BYTES.audit) + 1);
  const gsiWrites = writeUnits(ITEM_BYTES.plan);
  const replicated =
    inputs.replicaRegions * (writeUnits(ITEM_BYTES.plan) + writeUnits(ITEM_BYTES.audit) + gsiWrites);
  return {
    ...edge(inputs),
    'Lambda: put-plan': lambda(inputs.publishMemoryMb, inputs.publishDurationMs, 1),
    'DynamoDB reads (consistent)': readUnits * PRICES.dynamoReadUnitPerMillion,
    'DynamoDB writes (transaction + council index)':
      (transactional + gsiWrites) * PRICES.dynamoWriteUnitPerMillion,
    'DynamoDB replicated writes': replicated * PRICES.dynamoReplicatedWriteUnitPerMillion,
  };
}

export const total = (components: Record<string, number>) =>
  Object.values(components).reduce((a, b) => a + b, 0);
