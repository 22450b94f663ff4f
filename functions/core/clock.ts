/**
 * The one source of "now" for handlers. Tests that run the real handlers in-process replace `now`
 * to reach boundaries (the last day a plan is visible) without waiting for them.
 */
export const clock = {
  now: (): Date => new Date(),
};
