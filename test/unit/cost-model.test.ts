import { readFileSync } from 'node:fs';
import {
  DEFAULT_INPUTS,
  lookupCost,
  PRICE_REGION,
  PRICE_SOURCES,
  PRICES,
  publishCost,
  REALISTIC_MIX,
  total,
} from '../../bench/lib/cost';

const doc = readFileSync('docs/cost.md', 'utf8');
/** docs/cost.md's worked example: the defaults with a 40 ms lookup. */
const example = { ...DEFAULT_INPUTS, lookupDurationMs: 40 };
const cents = (usd: number) => `$${usd.toFixed(2)}`;

describe('cost model (bench/lib/cost.ts, docs/cost.md)', () => {
  it('prices London, where the stages deploy, with a source and a read date for every price', () => {
    expect(PRICE_REGION).toBe('eu-west-2');
    expect(readFileSync('stacks/config.ts', 'utf8')).toMatch(/primaryRegion: 'eu-west-2'/);
    expect(Object.keys(PRICE_SOURCES).sort()).toEqual(Object.keys(PRICES).sort());
    for (const [name, source] of Object.entries(PRICE_SOURCES)) {
      expect({ name, source: source.source }).toEqual({ name, source: expect.stringMatching(/^https:\/\//) });
      expect({ name, read: source.read }).toEqual({
        name,
        read: expect.stringMatching(/^\d{4}-\d{2}-\d{2}: /),
      });
    }
  });

  it('says in docs/cost.md which prices are not stated for London', () => {
    const standIns = Object.entries(PRICE_SOURCES)
      .filter(([, source]) => !source.statedForRegion)
      .map(([name]) => name)
      .sort();
    expect(standIns).toEqual([
      'dynamoReadUnitPerMillion',
      'dynamoReplicatedWriteUnitPerMillion',
      'dynamoWriteUnitPerMillion',
      'xrayPerMillionTracesRecorded',
    ]);
    expect(doc).toContain('Where no London figure was found');
    expect(doc).toMatch(/\*\*DynamoDB on-demand request units\*\*/);
    expect(doc).toMatch(/\*\*X-Ray\*\*/);
  });

  it('uses the arm64 Lambda duration price, the architecture the stacks deploy', () => {
    expect(readFileSync('stacks/constructs/service-function.ts', 'utf8')).toContain(
      'architecture: Architecture.ARM_64',
    );
    expect(PRICES.lambdaPerGbSecond).toBe(0.0000133334);
    expect(PRICE_SOURCES.lambdaPerGbSecond.read).toContain('EUW2-Lambda-GB-Second-ARM');
  });

  it('prices a replicated write as a write, as global tables bill it', () => {
    expect(PRICES.dynamoReplicatedWriteUnitPerMillion).toBe(PRICES.dynamoWriteUnitPerMillion);
    const noReplica = lookupCost({ ...example, replicaRegions: 0 });
    const twoReplicas = lookupCost({ ...example, replicaRegions: 2 });
    expect(noReplica['DynamoDB replicated writes']).toBe(0);
    expect(twoReplicas['DynamoDB replicated writes']).toBeCloseTo(2 * PRICES.dynamoWriteUnitPerMillion, 6);
  });

  it('states each price in docs/cost.md as the code holds it', () => {
    const table = doc.slice(doc.indexOf('## Prices'), doc.indexOf('## Inputs'));
    expect(table).toContain(`$${PRICES.apiGatewayRestPerMillion.toFixed(2)} per million`);
    expect(table).toContain(`$${PRICES.wafPerMillionRequests.toFixed(2)} per million`);
    expect(table).toContain(`$${PRICES.lambdaPerMillionRequests.toFixed(2)} per million`);
    expect(table).toContain(`$${PRICES.lambdaPerGbSecond} per GB-second`);
    expect(table).toContain(`$${PRICES.dynamoWriteUnitPerMillion} per million`);
    expect(table).toContain(`$${PRICES.dynamoReadUnitPerMillion} per million`);
    expect(table).toContain(`$${PRICES.sqsPerMillionRequests.toFixed(2)} per million`);
    expect(table).toContain(`$${PRICES.kmsPerTenThousandRequests} per 10,000`);
    expect(table).toContain(`$${PRICES.logsIngestionPerGb} per GB`);
    expect(table).toContain(`$${PRICES.xrayPerMillionTracesRecorded.toFixed(2)} per million`);
  });

  it('gives the totals of the worked example in docs/cost.md, the realistic mix under $10', () => {
    const worst = total(lookupCost(example));
    const mix = total(lookupCost({ ...example, ...REALISTIC_MIX }));
    expect(cents(worst)).toBe('$9.45');
    expect(cents(mix)).toBe('$7.62');
    expect(mix).toBeLessThanOrEqual(10);
    expect(doc).toContain(`**${cents(worst)}** | **${cents(mix)}**`);
    expect(doc).toContain(`**${cents(total(publishCost(DEFAULT_INPUTS)))} per million publishes**`);
  });

  it('charges CloudWatch Logs ingestion per GiB of log bytes at the London price', () => {
    const components = lookupCost(example);
    expect(components['CloudWatch Logs']).toBeCloseTo(
      (DEFAULT_INPUTS.logBytesPerRequest * 1e6 * 0.5985) / 2 ** 30,
      9,
    );
  });
});
