/** Settings handlers read from their environment, once per cold start. */
import { DEFAULT_SNAPSHOT_MAX_END_SHARE } from './core/uploads';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} must be set`);
  return value;
}

export const tableName = (): string => required('TABLE_NAME');

/**
 * An optional setting written as text matching `form`: unset gives the default; set (even to "") it
 * must match, so 0x8, 1e1, " 8" or an empty value are refused rather than read as Number() would.
 */
function optionalSetting(name: string, form: RegExp, expected: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined) return fallback;
  if (text === '')
    throw new Error(`${name} is set but empty: unset it for the default (${fallback}), or give ${expected}`);
  if (!form.test(text)) throw new Error(`${name} must be ${expected}, not "${text}"`);
  return Number(text);
}

/**
 * Plan transactions a bulk upload keeps in flight (PLAN_WRITE_CONCURRENCY, 1 to 32 in decimal digits,
 * default 8). The local runtime sets 1: DynamoDB Local runs transactions behind one lock, so more in
 * flight only queue for it, and past its lock timeout it fails them ("will succeed in actual DynamoDB").
 */
export const planWriteConcurrency = (): number =>
  optionalSetting('PLAN_WRITE_CONCURRENCY', /^([1-9]|[12]\d|3[0-2])$/, 'a whole number from 1 to 32', 8);

/**
 * Largest share of a council's open plans a snapshot upload may end without force=true
 * (SNAPSHOT_MAX_END_SHARE, a decimal from 0 to 1 such as 0.1, 0 or 1; default 0.1).
 */
export const snapshotMaxEndShare = (): number =>
  optionalSetting(
    'SNAPSHOT_MAX_END_SHARE',
    /^(0(\.\d+)?|1(\.0+)?)$/,
    'a number from 0 to 1, e.g. 0.1',
    DEFAULT_SNAPSHOT_MAX_END_SHARE,
  );
