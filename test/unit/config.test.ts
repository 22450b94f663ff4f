import { planWriteConcurrency } from '../../functions/config';

describe('PLAN_WRITE_CONCURRENCY', () => {
  const saved = process.env.PLAN_WRITE_CONCURRENCY;
  afterEach(() => {
    if (saved === undefined) delete process.env.PLAN_WRITE_CONCURRENCY;
    else process.env.PLAN_WRITE_CONCURRENCY = saved;
  });

  it('defaults to 8 transactions in flight, and takes a whole number from 1 to 32', () => {
    delete process.env.PLAN_WRITE_CONCURRENCY;
    expect(planWriteConcurrency()).toBe(8);
    process.env.PLAN_WRITE_CONCURRENCY = '1';
    expect(planWriteConcurrency()).toBe(1);
    process.env.PLAN_WRITE_CONCURRENCY = '32';
    expect(planWriteConcurrency()).toBe(32);
  });

  it.each(['0', '33', '2.5', 'eight', '-1'])(
    'refuses %s with a message naming the setting and its range',
    (value) => {
      process.env.PLAN_WRITE_CONCURRENCY = value;
      expect(() => planWriteConcurrency()).toThrow(
        `PLAN_WRITE_CONCURRENCY must be a whole number from 1 to 32, not "${value}"`,
      );
    },
  );
});
