import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type RunReport, writeReport } from '../../bench/lib/report';

const report = (mode: 'full' | 'quick', startedAt: string): RunReport => ({
  name: mode === 'quick' ? '2026-12-07-quick' : '2026-12-07',
  mode,
  startedAt,
  finishedAt: startedAt,
  durationSeconds: 1,
  command: 'npm run bench',
  environment: {},
  settings: {},
  rows: [],
  notes: [],
  errors: [],
  extras: {},
});

describe('benchmark results files (bench/lib/report.ts)', () => {
  it('keeps every full run of a day: the second is <date>-2, the third <date>-3', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-report-'));
    const first = await writeReport(dir, report('full', '2026-12-07T09:00:00.000Z'));
    const second = await writeReport(dir, report('full', '2026-12-07T10:00:00.000Z'));
    const third = await writeReport(dir, report('full', '2026-12-07T11:00:00.000Z'));
    expect([first.md, second.md, third.md].map((file) => path.basename(file))).toEqual([
      '2026-12-07.md',
      '2026-12-07-2.md',
      '2026-12-07-3.md',
    ]);
    // Each file still holds its own run, named as its file is.
    const secondJson = JSON.parse(readFileSync(second.json, 'utf8')) as RunReport;
    expect(secondJson).toMatchObject({ name: '2026-12-07-2', startedAt: '2026-12-07T10:00:00.000Z' });
    expect(readFileSync(first.md, 'utf8')).toContain('# Benchmark results: 2026-12-07\n');
    expect(readFileSync(third.md, 'utf8')).toContain('# Benchmark results: 2026-12-07-3\n');
  });

  it('lets a quick (smoke) run replace the one before it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-report-'));
    await writeReport(dir, report('quick', '2026-12-07T09:00:00.000Z'));
    const again = await writeReport(dir, report('quick', '2026-12-07T10:00:00.000Z'));
    expect(path.basename(again.md)).toBe('2026-12-07-quick.md');
    expect(readdirSync(dir).sort()).toEqual(['2026-12-07-quick.json', '2026-12-07-quick.md']);
    expect(JSON.parse(readFileSync(again.json, 'utf8')).startedAt).toBe('2026-12-07T10:00:00.000Z');
  });
});
