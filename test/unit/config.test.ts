import { environments, readEnvironment } from '../../functions/environment';

/** The upload function's settings, read from the environment as it reads them when it starts. */
const uploadSettings = () =>
  readEnvironment(environments.upload, { ...process.env, TABLE_NAME: 'unit-config' });
const planWriteConcurrency = () => Number(uploadSettings().PLAN_WRITE_CONCURRENCY);
const snapshotMaxEndShare = () => Number(uploadSettings().SNAPSHOT_MAX_END_SHARE);

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

  // Number() would read 0x8 as 8, 1e1 as 10, " 8" and "8.0" as 8: only plain decimal digits are a setting.
  it.each(['0', '33', '2.5', 'eight', '-1', '0x8', '1e1', ' 8', '8.0', '+8', '08'])(
    'refuses %j with a message naming the setting and its range',
    (value) => {
      process.env.PLAN_WRITE_CONCURRENCY = value;
      expect(() => planWriteConcurrency()).toThrow(
        `PLAN_WRITE_CONCURRENCY must be a whole number from 1 to 32, not "${value}"`,
      );
    },
  );

  it('refuses an empty value instead of quietly taking the default', () => {
    process.env.PLAN_WRITE_CONCURRENCY = '';
    expect(() => planWriteConcurrency()).toThrow(
      'PLAN_WRITE_CONCURRENCY is set but empty: unset it for the default (8), or give a whole number from 1 to 32',
    );
  });
});

describe('SNAPSHOT_MAX_END_SHARE', () => {
  const saved = process.env.SNAPSHOT_MAX_END_SHARE;
  afterEach(() => {
    if (saved === undefined) delete process.env.SNAPSHOT_MAX_END_SHARE;
    else process.env.SNAPSHOT_MAX_END_SHARE = saved;
  });

  it('defaults to 0.1, and takes a decimal from 0 to 1', () => {
    delete process.env.SNAPSHOT_MAX_END_SHARE;
    expect(snapshotMaxEndShare()).toBe(0.1);
    for (const [text, share] of [
      ['0', 0],
      ['0.25', 0.25],
      ['1', 1],
      ['1.0', 1],
    ] as const) {
      process.env.SNAPSHOT_MAX_END_SHARE = text;
      expect(snapshotMaxEndShare()).toBe(share);
    }
  });

  it.each(['1.5', '-0.1', 'ten percent', '10%', '1e-1', '0x0', '.5', '0.', ' 0.1', 'Infinity'])(
    'refuses %j with a message naming the setting and its form',
    (value) => {
      process.env.SNAPSHOT_MAX_END_SHARE = value;
      expect(() => snapshotMaxEndShare()).toThrow(
        `SNAPSHOT_MAX_END_SHARE must be a number from 0 to 1, e.g. 0.1, not "${value}"`,
      );
    },
  );

  it('refuses an empty value, which Number() would read as 0 (every snapshot refused)', () => {
    process.env.SNAPSHOT_MAX_END_SHARE = '';
    expect(() => snapshotMaxEndShare()).toThrow(
      'SNAPSHOT_MAX_END_SHARE is set but empty: unset it for the default (0.1), or give a number from 0 to 1',
    );
  });
});

describe('the upload function with a bad SNAPSHOT_MAX_END_SHARE', () => {
  /** Loads functions/upload.ts in a process of its own, as a cold start does. */
  async function coldStart(share: string): Promise<{ code: number | null; stderr: string }> {
    const { execFile } = await import('node:child_process');
    const { SNAPSHOT_MAX_END_SHARE: _, PLAN_WRITE_CONCURRENCY: __, ...env } = process.env;
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--no-warnings', '--import', 'tsx', '--eval', "await import('./functions/upload.ts')"],
        {
          env: { ...env, AWS_REGION: 'eu-west-2', TABLE_NAME: 'unit-config', SNAPSHOT_MAX_END_SHARE: share },
        },
        (error, _stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
  }

  it('fails at load, naming the setting, rather than answering each snapshot upload with a 500', async () => {
    const bad = await coldStart('1e-1');
    expect(bad.stderr).toContain('SNAPSHOT_MAX_END_SHARE must be a number from 0 to 1, e.g. 0.1, not "1e-1"');
    expect(bad.code).not.toBe(0);
    const good = await coldStart('0.25');
    expect(good).toEqual({ code: 0, stderr: '' });
  }, 30_000);
});
