/** The upload's rows per transaction: read from UPLOAD_ROWS_PER_TRANSACTION, checked at start-up. */
import { MAX_ROWS_PER_TRANSACTION } from '../../functions/core/uploads';
import { environments, readEnvironment } from '../../functions/environment';

const read = (value?: string) =>
  readEnvironment(environments.upload, {
    TABLE_NAME: 'plans',
    ...(value === undefined ? {} : { UPLOAD_ROWS_PER_TRANSACTION: value }),
  }).UPLOAD_ROWS_PER_TRANSACTION;

describe('UPLOAD_ROWS_PER_TRANSACTION', () => {
  it('defaults to as many rows as fit in one transaction', () => {
    expect(Number(read())).toBe(MAX_ROWS_PER_TRANSACTION);
  });

  it.each(['1', '7', '33', '50'])('takes %s', (value) => {
    expect(read(value)).toBe(value);
  });

  it.each(['0', '51', '100', '-1', '1.5', '0x8', ' 8', 'many'])('refuses %j at start-up', (value) => {
    expect(() => read(value)).toThrow(
      `UPLOAD_ROWS_PER_TRANSACTION must be a whole number from 1 to 50, not "${value}"`,
    );
  });

  it('refuses an empty value, naming the default', () => {
    expect(() => read('')).toThrow(
      'UPLOAD_ROWS_PER_TRANSACTION is set but empty: unset it for the default (50), or give a whole number from 1 to 50',
    );
  });
});
