import { readLocalConfig } from '../../local/config';

describe('local configuration', () => {
  it('uses the documented defaults', () => {
    expect(readLocalConfig({})).toEqual({
      PORT: 3000,
      HOST: '127.0.0.1',
      TABLE_NAME: 'child-protection-local',
      COUNCIL_QUEUE_NAME_PREFIX: 'cpis-council-',
      LOOKUP_RATE_PER_USER: 120,
      LOOKUP_RATE_PER_ORG: 1200,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT must be a port number/],
    [{ PORT: '70000' }, /PORT must be from 0 to 65535/],
    [{ LOOKUP_RATE_PER_USER: '0' }, /LOOKUP_RATE_PER_USER must be at least 1/],
    [{ LOOKUP_RATE_PER_ORG: '-5' }, /LOOKUP_RATE_PER_ORG must be a whole number/],
    [{ TABLE_NAME: 'a b' }, /TABLE_NAME must be/],
    [{ SNAPSHOT_MAX_END_SHARE: '1.5' }, /SNAPSHOT_MAX_END_SHARE must be a number from 0 to 1/],
    [{ PLAN_WRITE_CONCURRENCY: '0' }, /PLAN_WRITE_CONCURRENCY must be a whole number from 1 to 32/],
    [{ PLAN_WRITE_CONCURRENCY: '33' }, /PLAN_WRITE_CONCURRENCY must be a whole number from 1 to 32/],
  ])('refuses %j with a message naming the setting', (env, message) => {
    expect(() => readLocalConfig(env)).toThrow(message);
  });
});

describe('npm start with a bad setting', () => {
  it('stops before starting anything, naming the setting', async () => {
    const { execFile } = await import('node:child_process');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--no-warnings', '--import', 'tsx', 'local/start.ts'],
        { env: { ...process.env, PORT: 'abc' } },
        (error, _stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Could not start the local service: Invalid configuration: PORT must be a port number',
    );
  }, 30_000);
});
