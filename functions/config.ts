/** Settings handlers read from their environment, once per cold start. */
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} must be set`);
  return value;
}

export const tableName = (): string => required('TABLE_NAME');

/**
 * Plan transactions a bulk upload keeps in flight (PLAN_WRITE_CONCURRENCY, 1 to 32, default 8).
 * The local runtime sets 1: DynamoDB Local runs transactions behind one lock, so more in flight only
 * queue for it, and past its lock timeout it fails them ("will succeed in actual DynamoDB").
 */
export function planWriteConcurrency(): number {
  const text = process.env.PLAN_WRITE_CONCURRENCY;
  if (text === undefined || text === '') return 8;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 32)
    throw new Error(`PLAN_WRITE_CONCURRENCY must be a whole number from 1 to 32, not "${text}"`);
  return value;
}
