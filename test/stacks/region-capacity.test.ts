/**
 * A region can home every council in England (153 with children's services): synthesize the prod
 * stage with all of them in one region and check the limits a deployment would otherwise meet only at
 * deploy time: CloudFormation's 500 resources and 200 outputs a stack, Lambda's 4 KB of environment.
 */
import type { BuiltApp } from '../../stacks/app-builder';
import { type StageConfigInput, stages } from '../../stacks/config';
import { allStacks, type Resource, regionStacks, resourcesOfType, synthesize, template } from './helpers';

const ENGLAND_COUNCILS = 153;
const prod = stages.find((stage) => stage.name === 'prod') as StageConfigInput;
const councils = Array.from({ length: ENGLAND_COUNCILS }, (_, i) => ({
  code: `E${String(6_000_001 + i).padStart(8, '0')}`,
  name: `Council ${i + 1}`,
  consumerAccountId: String(300_000_000_000 + i),
}));
const everyCouncilInLondon: StageConfigInput = {
  ...prod,
  regions: prod.regions.map((region) =>
    region.region === 'eu-west-2' ? { ...region, councils } : { ...region, councils: [] },
  ),
};

/** An environment variable's value as deployed: joins resolved, pseudo parameters and refs at their longest. */
function deployedLength(value: unknown): number {
  if (typeof value === 'string') return value.length;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].reduce<number>((sum, part) => sum + deployedLength(part), 0);
  // A Ref or GetAtt in an environment is a name or ARN: 256 characters is more than any here.
  return 256;
}

let built: BuiltApp;
beforeAll(() => {
  built = synthesize([everyCouncilInLondon]);
}, 300_000);

it('gives every council its queues in the one region', () => {
  const messaging = regionStacks(built, 'prod', 'eu-west-2').messaging;
  expect(messaging.councilQueues).toHaveLength(ENGLAND_COUNCILS);
  expect(resourcesOfType(messaging, 'AWS::SQS::Queue')).toHaveLength(2 * ENGLAND_COUNCILS + 1);
});

it("keeps every stack within CloudFormation's 500 resources and 200 outputs", () => {
  for (const stack of allStacks(built)) {
    const json = template(stack).toJSON();
    expect([stack.node.path, Object.keys(json.Resources ?? {}).length <= 500]).toEqual([
      stack.node.path,
      true,
    ]);
    expect([stack.node.path, Object.keys(json.Outputs ?? {}).length <= 200]).toEqual([stack.node.path, true]);
  }
});

it("keeps every function's environment within Lambda's 4 KB", () => {
  for (const stack of allStacks(built)) {
    for (const [id, fn] of resourcesOfType(stack, 'AWS::Lambda::Function')) {
      const variables = ((fn as Resource).Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
      const size = Object.entries(variables).reduce(
        (sum, [name, value]) => sum + name.length + deployedLength(value),
        0,
      );
      expect([`${stack.node.path}/${id}`, size < 4096]).toEqual([`${stack.node.path}/${id}`, true]);
    }
  }
});
