/**
 * Fixed-window lookup limits per user and per organisation: the local stand-in for the deployed
 * stack's WAF rate-based rules (per bearer token, and per source address standing in for the
 * organisation; see docs/deploy.md).
 */
export interface RateLimits {
  perUserPerMinute: number;
  perOrganisationPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { perUserPerMinute: 120, perOrganisationPerMinute: 1200 };

export class RateLimiter {
  private windowStart = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one call; returns the seconds to wait when a limit is exceeded, else undefined. */
  take(org: string, sub: string): number | undefined {
    const now = this.now();
    const window = Math.floor(now / 60_000) * 60_000;
    if (window !== this.windowStart) {
      this.windowStart = window;
      this.counts.clear();
    }
    const userKey = `user:${org}:${sub}`;
    const orgKey = `org:${org}`;
    const user = (this.counts.get(userKey) ?? 0) + 1;
    const organisation = (this.counts.get(orgKey) ?? 0) + 1;
    this.counts.set(userKey, user);
    this.counts.set(orgKey, organisation);
    if (user > this.limits.perUserPerMinute || organisation > this.limits.perOrganisationPerMinute) {
      return Math.max(1, Math.ceil((window + 60_000 - now) / 1000));
    }
    return undefined;
  }
}
