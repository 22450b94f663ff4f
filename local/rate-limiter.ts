/**
 * Fixed-window limits: every route per caller (sub with org), and lookups also per user and per
 * organisation. The local stand-in for the deployed stack's WAF rate-based rules (docs/deploy.md).
 *
 * Only allowed calls are counted. A call refused by any limit counts against none, so one user over
 * their own limit cannot use up their organisation's allowance and lock colleagues out.
 */
export interface RateLimits {
  /** Calls to any route per caller; default 300. */
  perCallerPerMinute?: number;
  /** Lookups per user. */
  perUserPerMinute: number;
  /** Lookups per organisation. */
  perOrganisationPerMinute: number;
}

export const DEFAULT_RATE_LIMITS = {
  perCallerPerMinute: 300,
  perUserPerMinute: 120,
  perOrganisationPerMinute: 1200,
} as const satisfies RateLimits;

const WINDOW_MS = 60_000;

export class RateLimiter {
  private windowStart = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Counts one call if both limits allow it and returns undefined; otherwise counts nothing and
   * returns the whole seconds until the window turns, when a call is next allowed. Synchronous, so
   * the check and the count cannot interleave with another request's in this process.
   */
  take(org: string, sub: string, lookup = true): number | undefined {
    const now = this.now();
    const window = Math.floor(now / WINDOW_MS) * WINDOW_MS;
    if (window !== this.windowStart) {
      this.windowStart = window;
      this.counts.clear();
    }
    const callerKey = `caller:${org}:${sub}`;
    const userKey = `user:${org}:${sub}`;
    const orgKey = `org:${org}`;
    const caller = this.counts.get(callerKey) ?? 0;
    const user = this.counts.get(userKey) ?? 0;
    const organisation = this.counts.get(orgKey) ?? 0;
    const perCaller = this.limits.perCallerPerMinute ?? DEFAULT_RATE_LIMITS.perCallerPerMinute;
    if (
      caller >= perCaller ||
      (lookup &&
        (user >= this.limits.perUserPerMinute || organisation >= this.limits.perOrganisationPerMinute))
    ) {
      return Math.max(1, Math.ceil((window + WINDOW_MS - now) / 1000));
    }
    this.counts.set(callerKey, caller + 1);
    if (lookup) {
      this.counts.set(userKey, user + 1);
      this.counts.set(orgKey, organisation + 1);
    }
    return undefined;
  }
}
