/**
 * CDK entry (cdk.json runs it with tsx). The only place that reads the environment or context:
 * `-c stages=dev,prod` limits which stages are synthesized (default: every stage of stacks/config.ts);
 * an unknown stage name fails synth.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp } from './app-builder';
import { parseConfig, selectStages, stages } from './config';

const app = new App();
// A name that is no stage fails synth, naming it and the stages there are.
const selected = selectStages(parseConfig(stages), app.node.tryGetContext('stages'));
buildApp(selected, { app });
const assembly = app.synth();

// The CLI reports validation findings only for the stacks named on its command line, and a bare
// `cdk synth` names none (every stack is inside a Stage): fail here on any unacknowledged finding.
interface Report {
  pluginReports?: {
    pluginName: string;
    violations: { ruleName: string; violatingConstructs: { constructPath?: string }[] }[];
  }[];
}
let report: Report = {};
try {
  report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as Report;
} catch {
  // no report: no plugin found anything
}
const findings = (report.pluginReports ?? []).flatMap((plugin) =>
  plugin.violations.flatMap((violation) =>
    violation.violatingConstructs.map((c) => `${violation.ruleName} at ${c.constructPath ?? '(unknown)'}`),
  ),
);
if (findings.length > 0) {
  throw new Error(
    `Validation findings (cdk-nag, CloudFormation checks) without a written acknowledgement:\n  ${findings.join('\n  ')}`,
  );
}
