/**
 * The authorizer's environment, checked when it starts, without zod (docs/adr/0059): without issuers it
 * would refuse every token, so it refuses to start instead, naming what to fix. environment.ts checks
 * the authorizer's environment through this module too.
 */
import { readSettings, type SettingProblem, type SettingsCheck } from '../environment-error';
import { checkIssuers, type IssuerConfig } from './issuers';

const DEFAULT_JWT_AUDIENCE = 'child-protection-sharing';
const ISSUERS_FORM =
  'a JSON list of { "kind" (cis2 or client-credentials), "issuer", "discoveryUrl"?, "audience"?, "roles", "orgPattern", "acr"?, "clients"? } (the stacks set it; without it every token is refused)';

export interface AuthorizerSettings {
  /** JWT_ISSUERS, read once into the list the verifier takes. */
  JWT_ISSUERS: IssuerConfig[];
  JWT_AUDIENCE: string;
}

/** The settings `source` gives, and every problem with them (none: the settings are good). */
export const checkAuthorizerSettings: SettingsCheck<AuthorizerSettings> = (source) => {
  const { JWT_ISSUERS, JWT_AUDIENCE = DEFAULT_JWT_AUDIENCE } = source;
  const problems: SettingProblem[] = [];
  let issuers: IssuerConfig[] | undefined;
  if (JWT_ISSUERS === undefined) problems.push({ name: 'JWT_ISSUERS', message: 'must be set' });
  else {
    try {
      issuers = checkIssuers(JSON.parse(JWT_ISSUERS)).issuers;
    } catch {
      issuers = undefined;
    }
    // One message for the whole list: the stacks check each issuer, with its own reasons, at synthesis.
    if (!issuers) problems.push({ name: 'JWT_ISSUERS', message: `must be ${ISSUERS_FORM}` });
  }
  if (JWT_AUDIENCE === '')
    problems.push({ name: 'JWT_AUDIENCE', message: 'must not be empty: the audience tokens must name' });
  return issuers && problems.length === 0
    ? { settings: { JWT_ISSUERS: issuers, JWT_AUDIENCE }, problems }
    : { problems };
};

/** The settings, or an EnvironmentError naming every variable that is wrong. */
export const readAuthorizerSettings = (source: Record<string, string | undefined> = process.env) =>
  readSettings(checkAuthorizerSettings, source);
