/**
 * Fixed-window lookup limits per user and per organisation: the local stand-in for the deployed
 * stack's WAF rate-based rules (per bearer token, and per source address standing in for the
 * organisation; see docs/deploy.md).
 *
 * Only allowed calls are counted. A call refused by either limit counts against neither, so one user
 * over their own limit cannot use up their organisation's allowance and lock colleagues out.
 */
export interface RateLimits {
  perUserPerMinute: number;
  perOrganisationPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { perUserPerMinute: 120, perOrganisationPerMinute: 1200 };

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
  take(org: string, sub: string): number | undefined {
    const now = this.now();
    const window = Math.floor(now / WINDOW_MS) * WINDOW_MS;
    if (window !== this.windowStart) {
      this.windowStart = window;
      this.counts.clear();
    }
    const userKey = `user:${org}:${sub}`;
    const orgKey = `org:${org}`;
    const user = this.counts.get(userKey) ?? 0;
    const organisation = this.counts.get(orgKey) ?? 0;
    if (user >= this.limits.perUserPerMinute || organisation >= this.limits.perOrganisationPerMinute) {
      return Math.max(1, Math.ceil((window + WINDOW_MS - now) / 1000));
    }
    this.counts.set(userKey, user + 1);
    this.counts.set(orgKey, organisation + 1);
    return undefined;
  }
}
