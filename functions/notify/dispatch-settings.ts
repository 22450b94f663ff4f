/**
 * The dispatch function's environment, checked when it starts, without zod (docs/adr/0059): a missing
 * or malformed variable stops it with a message naming the variable and its expected form, as
 * environment.ts does for the other functions (which checks dispatch's through this module too).
 */
import { readSettings, type SettingProblem, type SettingsCheck } from '../environment-error';
import type { CouncilQueueSettings } from './council-queues';

export const DEFAULT_COUNCIL_QUEUE_NAME_PREFIX = 'cpis-council-';
const COUNCIL_HOMES_FORM = 'a JSON object of council codes by region, e.g. {"eu-west-2":["E09000001"]}';
const QUEUE_URL_PREFIX_FORM = 'https://sqs.<region>.amazonaws.com/<account>/<queue name prefix>';

/** Whether `text` is JSON of an object whose every value is a list of non-empty strings. */
function isCouncilHomes(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.values(value).every(
      (codes) => Array.isArray(codes) && codes.every((code) => typeof code === 'string' && code.length > 0),
    )
  );
}

/** The settings `source` gives, and every problem with them (none: the settings are good). */
export const checkDispatchSettings: SettingsCheck<CouncilQueueSettings> = (source) => {
  const { COUNCIL_HOMES, COUNCIL_QUEUE_URL_PREFIX, COUNCIL_QUEUE_NAME_PREFIX, AWS_REGION } = source;
  const problems: SettingProblem[] = [];
  if (COUNCIL_HOMES !== undefined && !isCouncilHomes(COUNCIL_HOMES))
    problems.push({ name: 'COUNCIL_HOMES', message: `must be ${COUNCIL_HOMES_FORM}` });
  if (COUNCIL_QUEUE_URL_PREFIX !== undefined && !/^https?:\/\/\S+$/.test(COUNCIL_QUEUE_URL_PREFIX))
    problems.push({
      name: 'COUNCIL_QUEUE_URL_PREFIX',
      message: `must be ${QUEUE_URL_PREFIX_FORM}, not "${COUNCIL_QUEUE_URL_PREFIX}"`,
    });
  if (COUNCIL_QUEUE_NAME_PREFIX === '')
    problems.push({
      name: 'COUNCIL_QUEUE_NAME_PREFIX',
      message: 'must not be empty: the local council queue name prefix',
    });
  if (AWS_REGION === '')
    problems.push({ name: 'AWS_REGION', message: 'must not be empty: the region the function runs in' });
  const deployed = COUNCIL_HOMES !== undefined || COUNCIL_QUEUE_URL_PREFIX !== undefined;
  const wholly =
    COUNCIL_HOMES !== undefined && COUNCIL_QUEUE_URL_PREFIX !== undefined && AWS_REGION !== undefined;
  if (deployed && !wholly)
    problems.push({
      name: 'COUNCIL_HOMES',
      message: `deployed, the dispatch function needs COUNCIL_HOMES (${COUNCIL_HOMES_FORM}), COUNCIL_QUEUE_URL_PREFIX and AWS_REGION together; the stacks set all three`,
    });
  const settings: CouncilQueueSettings = {
    ...(COUNCIL_HOMES !== undefined && { COUNCIL_HOMES }),
    ...(COUNCIL_QUEUE_URL_PREFIX !== undefined && { COUNCIL_QUEUE_URL_PREFIX }),
    COUNCIL_QUEUE_NAME_PREFIX: COUNCIL_QUEUE_NAME_PREFIX ?? DEFAULT_COUNCIL_QUEUE_NAME_PREFIX,
    ...(AWS_REGION !== undefined && { AWS_REGION }),
  };
  return { settings, problems };
};

/** The settings, or an EnvironmentError naming every variable that is wrong. */
export const readDispatchSettings = (source: Record<string, string | undefined> = process.env) =>
  readSettings(checkDispatchSettings, source);
