/** How a function refuses to start on a bad environment; no zod here, so that dispatch need not load it. */

/** Thrown at start-up when a variable is missing or malformed; the message names each one. */
export class EnvironmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

/** One error for all the variables that are wrong, each problem given as `NAME what is wrong`. */
export const environmentError = (problems: string[]): EnvironmentError =>
  new EnvironmentError(`Invalid environment: ${problems.join('; ')}`);

/** What is wrong with one variable. */
export interface SettingProblem {
  name: string;
  message: string;
}

/**
 * A function's own check of its environment, without zod (docs/adr/0059): the settings it reads, and
 * every problem with them (none: the settings are good).
 */
export type SettingsCheck<T> = (source: Record<string, string | undefined>) => {
  settings?: T;
  problems: SettingProblem[];
};

/** The settings `check` reads from `source`, or an EnvironmentError naming every variable that is wrong. */
export function readSettings<T>(
  check: SettingsCheck<T>,
  source: Record<string, string | undefined> = process.env,
): T {
  const { settings, problems } = check(source);
  if (settings === undefined || problems.length > 0)
    throw environmentError(problems.map(({ name, message }) => `${name} ${message}`));
  return settings;
}
