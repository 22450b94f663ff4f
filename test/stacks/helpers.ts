/**
 * Synthesizes apps for the stack tests: the context of cdk.json (the feature flags `cdk synth`
 * uses), with bundling skipped so no esbuild, Docker or network is needed.
 */
import { readFileSync } from 'node:fs';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { RouteDefinition } from '../../functions/http/routes';
import { type BuiltApp, buildApp, type RegionStacks } from '../../stacks/app-builder';
import { parseConfig, type StageConfig, type StageConfigInput } from '../../stacks/config';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

/** Builds and synthesizes (running the cdk-nag packs) every stage of the given config. */
export function synthesize(
  config: readonly StageConfigInput[],
  routes?: readonly RouteDefinition[],
): BuiltApp {
  const built = buildApp(parseConfig(config), {
    appProps: { context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } },
    routes,
  });
  built.app.synth();
  return built;
}

export function regionStacks(built: BuiltApp, stage: string, region: string): RegionStacks {
  const stacks = built.stages.get(stage)?.regions.get(region);
  if (!stacks) throw new Error(`No stacks for ${stage} ${region}`);
  return stacks;
}

const templates = new WeakMap<Stack, Template>();
export function template(stack: Stack): Template {
  let found = templates.get(stack);
  if (!found) {
    found = Template.fromStack(stack);
    templates.set(stack, found);
  }
  return found;
}

export function allStacks(built: BuiltApp): Stack[] {
  return [...built.stages.values()].flatMap((stage) =>
    [...stage.regions.values()].flatMap((r) => [r.data, r.messaging, r.api, r.monitoring]),
  );
}

export type Resource = { Type: string; Properties: Record<string, any>; [key: string]: unknown };

export function resourcesOfType(stack: Stack, type: string): [string, Resource][] {
  const resources = template(stack).toJSON().Resources as Record<string, Resource>;
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Statements of the inline IAM policies attached to a role (by its logical id). */
export function roleStatements(stack: Stack, roleLogicalId: string): Statement[] {
  return resourcesOfType(stack, 'AWS::IAM::Policy')
    .filter(([, policy]) =>
      asArray(policy.Properties.Roles as unknown[]).some(
        (role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId }),
      ),
    )
    .flatMap(([, policy]) =>
      asArray((policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement),
    );
}

/** Logical ids of the roles of every Lambda function in the stack, by function logical id. */
export function functionRoles(stack: Stack): Map<string, string> {
  const roles = new Map<string, string>();
  for (const [id, fn] of resourcesOfType(stack, 'AWS::Lambda::Function')) {
    const role = fn.Properties.Role as { 'Fn::GetAtt': [string, string] };
    roles.set(id, role['Fn::GetAtt'][0]);
  }
  return roles;
}

/** Every region of every stage, and the same labelled "<stage> <region>" for it.each. */
export function regionsOf(config: readonly StageConfig[]) {
  const everyRegion = config.flatMap((stage) => stage.regions.map((region) => ({ stage, region })));
  const regionCases = everyRegion.map(
    (entry) => [`${entry.stage.name} ${entry.region.region}`, entry] as const,
  );
  return { everyRegion, regionCases };
}
