/**
 * The dispatch function reads its environment without zod (docs/adr/0059). What it accepts, the
 * defaults it applies and the messages it gives are those of every other function's check, and the
 * catalogue's schema for it (environment.ts) answers the same.
 */
import { environments, readEnvironment } from '../../functions/environment';
import { readDispatchSettings } from '../../functions/notify/dispatch-settings';

const HOMES = '{"eu-west-2":["E09000001"],"eu-west-1":["E09000002"]}';
const URL_PREFIX = 'https://sqs.eu-west-2.amazonaws.com/222222222222/cpis-prod-council-';
const HOMES_FORM = 'a JSON object of council codes by region, e.g. {"eu-west-2":["E09000001"]}';
const TOGETHER = `COUNCIL_HOMES deployed, the dispatch function needs COUNCIL_HOMES (${HOMES_FORM}), COUNCIL_QUEUE_URL_PREFIX and AWS_REGION together; the stacks set all three`;

const cases: [string, Record<string, string>, Record<string, string> | string][] = [
  ['local: nothing set', {}, { COUNCIL_QUEUE_NAME_PREFIX: 'cpis-council-' }],
  ['local: a queue name prefix', { COUNCIL_QUEUE_NAME_PREFIX: 'x-' }, { COUNCIL_QUEUE_NAME_PREFIX: 'x-' }],
  [
    'deployed: all three',
    { COUNCIL_HOMES: HOMES, COUNCIL_QUEUE_URL_PREFIX: URL_PREFIX, AWS_REGION: 'eu-west-2' },
    {
      COUNCIL_HOMES: HOMES,
      COUNCIL_QUEUE_URL_PREFIX: URL_PREFIX,
      COUNCIL_QUEUE_NAME_PREFIX: 'cpis-council-',
      AWS_REGION: 'eu-west-2',
    },
  ],
  [
    'a list of councils, not councils by region',
    { COUNCIL_HOMES: '["E09000001"]', COUNCIL_QUEUE_URL_PREFIX: URL_PREFIX, AWS_REGION: 'eu-west-2' },
    `COUNCIL_HOMES must be ${HOMES_FORM}`,
  ],
  [
    'an empty council code and a URL that is no URL',
    { COUNCIL_HOMES: '{"eu-west-2":[""]}', COUNCIL_QUEUE_URL_PREFIX: 'sqs/queue-', AWS_REGION: 'eu-west-2' },
    `COUNCIL_HOMES must be ${HOMES_FORM}; COUNCIL_QUEUE_URL_PREFIX must be https://sqs.<region>.amazonaws.com/<account>/<queue name prefix>, not "sqs/queue-"`,
  ],
  [
    'not JSON',
    { COUNCIL_HOMES: '{', COUNCIL_QUEUE_URL_PREFIX: URL_PREFIX, AWS_REGION: 'x' },
    `COUNCIL_HOMES must be ${HOMES_FORM}`,
  ],
  ['homes without the URL prefix', { COUNCIL_HOMES: HOMES, AWS_REGION: 'eu-west-2' }, TOGETHER],
  [
    'the URL prefix without a region',
    { COUNCIL_HOMES: HOMES, COUNCIL_QUEUE_URL_PREFIX: URL_PREFIX },
    TOGETHER,
  ],
  [
    'empty values',
    { COUNCIL_QUEUE_NAME_PREFIX: '', AWS_REGION: '', COUNCIL_QUEUE_URL_PREFIX: '' },
    'COUNCIL_QUEUE_URL_PREFIX must be https://sqs.<region>.amazonaws.com/<account>/<queue name prefix>, not ""; ' +
      'COUNCIL_QUEUE_NAME_PREFIX must not be empty: the local council queue name prefix; ' +
      `AWS_REGION must not be empty: the region the function runs in; ${TOGETHER}`,
  ],
];

describe("the dispatch function's environment", () => {
  it.each(cases)('%s', (_, source, expected) => {
    const read = () => readDispatchSettings({ ...source, UNRELATED: 'ignored' });
    if (typeof expected === 'string') {
      expect(read).toThrow(`Invalid environment: ${expected}`);
      expect(() => readEnvironment(environments.dispatch, source)).toThrow(
        `Invalid environment: ${expected}`,
      );
    } else {
      expect(read()).toEqual(expected);
      expect(readEnvironment(environments.dispatch, source)).toEqual(expected);
    }
  });

  it('throws the EnvironmentError every function throws', () => {
    expect(() => readDispatchSettings({ AWS_REGION: '' })).toThrow(
      expect.objectContaining({ name: 'EnvironmentError' }),
    );
  });
});
