/** Writes a run's results as JSON and as a readable markdown table. */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResultRow } from './types';

export interface RunReport {
  name: string;
  mode: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  command: string;
  environment: Record<string, unknown>;
  settings: Record<string, unknown>;
  rows: ResultRow[];
  notes: string[];
  errors: { measurement: string; message: string }[];
  extras: Record<string, unknown>;
  /** Each measurement's title (bench/measurements/index.ts), by id: the sections' headings. */
  titles?: Record<string, string>;
}

export function evaluate(row: Omit<ResultRow, 'ratio' | 'pass'>): ResultRow {
  const ratio = row.baseline && row.baseline.value > 0 ? row.value / row.baseline.value : undefined;
  let pass: boolean | undefined;
  if (row.target) {
    const subject = row.target.kind === 'ratio' ? ratio : row.value;
    if (subject === undefined || !Number.isFinite(subject)) pass = false;
    else pass = row.target.op === '>=' ? subject >= row.target.limit : subject <= row.target.limit;
  }
  return {
    ...row,
    ...(ratio === undefined ? {} : { ratio: Math.round(ratio * 1000) / 1000 }),
    ...(pass === undefined ? {} : { pass }),
  };
}

const fmt = (value: number | undefined, unit = ''): string => {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const text =
    abs >= 1000
      ? Math.round(value).toLocaleString('en-GB')
      : abs >= 100
        ? value.toFixed(0)
        : abs >= 10
          ? value.toFixed(1)
          : value.toFixed(2);
  return unit ? `${text} ${unit}` : text;
};

function targetText(row: ResultRow): string {
  if (!row.target) return '';
  return row.target.kind === 'ratio'
    ? `${row.target.op} ${row.target.limit}x`
    : `${row.target.op} ${fmt(row.target.limit, row.unit)}`;
}

export function markdown(report: RunReport): string {
  const lines: string[] = [];
  const withTarget = report.rows.filter((row) => row.target);
  const passed = withTarget.filter((row) => row.pass).length;
  lines.push(`# Benchmark results: ${report.name}`);
  lines.push('');
  lines.push(
    `${report.mode} run, ${report.startedAt} (${Math.round(report.durationSeconds)} s), \`${report.command}\`. ` +
      `Targets met: **${passed} of ${withTarget.length}**${report.errors.length ? `; **${report.errors.length} measurement(s) failed to run**` : ''}.`,
  );
  lines.push('');
  const env = report.environment;
  lines.push(
    `Machine: ${env.cpuModel} × ${env.cpus}, ${env.memoryGiB} GiB, ${env.platform}; Node ${env.node}; ${env.java}; git ${env.gitCommit}${env.gitDirty ? ' (uncommitted changes)' : ''}.`,
  );
  lines.push('');
  lines.push('Every ratio is value / baseline, both measured in this run on this machine.');
  lines.push('');
  const measurements = [...new Set(report.rows.map((row) => row.measurement))];
  for (const measurement of measurements) {
    const title = report.titles?.[measurement];
    lines.push(`## ${measurement}${title ? `: ${title}` : ''}`);
    lines.push('');
    lines.push('| measure | baseline | value | ratio | target | result |');
    lines.push('|---|---|---|---|---|---|');
    for (const row of report.rows.filter((r) => r.measurement === measurement)) {
      const baseline = row.baseline ? `${fmt(row.baseline.value, row.unit)} (${row.baseline.label})` : 'n/a';
      const result = row.pass === undefined ? '' : row.pass ? 'pass' : '**FAIL**';
      lines.push(
        `| ${row.label} | ${baseline} | ${fmt(row.value, row.unit)} | ${row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`} | ${targetText(row)} | ${result} |`,
      );
    }
    lines.push('');
  }
  if (report.errors.length) {
    lines.push('## Errors');
    lines.push('');
    for (const error of report.errors)
      lines.push(`- **${error.measurement}**: ${error.message.split('\n')[0]}`);
    lines.push('');
  }
  if (report.notes.length) {
    lines.push('## Notes');
    lines.push('');
    for (const note of report.notes) lines.push(`- ${note}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes the run as `<name>.json` and `<name>.md`. A full run never replaces an earlier one of the same
 * name (the same day and measures): it becomes `<name>-2`, `-3`..., so that runs in a row can all be
 * kept and compared. A quick (smoke) run replaces its predecessor.
 */
export async function writeReport(dir: string, report: RunReport): Promise<{ json: string; md: string }> {
  await mkdir(dir, { recursive: true });
  let name = report.name;
  for (let n = 2; report.mode !== 'quick' && existsSync(path.join(dir, `${name}.md`)); n++)
    name = `${report.name}-${n}`;
  const json = path.join(dir, `${name}.json`);
  const md = path.join(dir, `${name}.md`);
  const written = { ...report, name };
  await writeFile(json, `${JSON.stringify(written, null, 2)}\n`);
  await writeFile(md, markdown(written));
  return { json, md };
}
