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
