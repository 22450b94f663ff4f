import { DEFAULT_RATE_LIMITS, RateLimiter } from '../../local/rate-limiter';

/** A clock set by the test: starts 10.5 s into a minute. */
const clock = () => {
  const c = { ms: 7 * 60_000 + 10_500, now: () => c.ms };
  return c;
};

/** Calls take n times and tallies the answers. */
const burst = (limiter: RateLimiter, org: string, sub: string, n: number) => {
  const answers = Array.from({ length: n }, () => limiter.take(org, sub));
  return {
    allowed: answers.filter((a) => a === undefined).length,
    refused: answers.filter((a) => a !== undefined),
  };
};

it('one user far over their own limit does not use up the organisation’s allowance: colleagues are still allowed', () => {
  const time = clock();
  const limiter = new RateLimiter(DEFAULT_RATE_LIMITS, time.now);
  const { perUserPerMinute, perOrganisationPerMinute } = DEFAULT_RATE_LIMITS;
  const hammering = burst(limiter, 'RQQ01', 'user-a', perOrganisationPerMinute);
  expect(hammering.allowed).toBe(perUserPerMinute);
  expect(hammering.refused).toHaveLength(perOrganisationPerMinute - perUserPerMinute);
  // The colleague's requests and, after them, the organisation's remaining allowance.
  expect(limiter.take('RQQ01', 'user-b')).toBeUndefined();
  expect(burst(limiter, 'RQQ01', 'user-b', perUserPerMinute - 1).allowed).toBe(perUserPerMinute - 1);
});

it('refused requests count against neither limit: the organisation allows exactly its limit however many are refused', () => {
  const time = clock();
  const limiter = new RateLimiter({ perUserPerMinute: 3, perOrganisationPerMinute: 20 }, time.now);
  let allowed = 0;
  for (let round = 0; round < 10; round++) {
    for (const sub of ['a', 'b', 'c', 'd', 'e']) if (limiter.take('RMM01', sub) === undefined) allowed++;
  }
  expect(allowed).toBe(15); // 3 each; the 35 refused leave the organisation 5 to give
  expect(burst(limiter, 'RMM01', 'f', 10).allowed).toBe(3);
  expect(burst(limiter, 'RMM01', 'g', 10).allowed).toBe(2); // the organisation's limit, exactly
  expect(limiter.take('RMM01', 'h')).toBeDefined();
  expect(limiter.take('RNN02', 'h')).toBeUndefined(); // other organisations are unaffected
});

it('Retry-After is the whole seconds until the window turns, and a request then is allowed whatever was refused meanwhile', () => {
  const time = clock(); // 10.5 s into the minute
  const limiter = new RateLimiter({ perUserPerMinute: 2, perOrganisationPerMinute: 5 }, time.now);
  expect(burst(limiter, 'RQQ01', 'a', 2).allowed).toBe(2);
  expect(limiter.take('RQQ01', 'a')).toBe(50); // 49.5 s left, rounded up
  time.ms += 49_000;
  const retries = burst(limiter, 'RQQ01', 'a', 100); // retrying does not extend the lockout
  expect(retries.allowed).toBe(0);
  expect(new Set(retries.refused)).toEqual(new Set([1]));
  time.ms += 1_000; // as told: 50 s after the first refusal
  expect(limiter.take('RQQ01', 'a')).toBeUndefined();
  // Refused by the organisation limit: the same truthful answer.
  burst(limiter, 'RQQ01', 'b', 2);
  burst(limiter, 'RQQ01', 'c', 2);
  expect(limiter.take('RQQ01', 'd')).toBe(60);
  time.ms += 60_000;
  expect(limiter.take('RQQ01', 'd')).toBeUndefined();
});

describe('every route, per caller', () => {
  it('refuses a caller past 300 calls a minute on any route, counting lookups too, and no one else', () => {
    let now = Date.parse('2026-11-20T10:00:00.000Z');
    const limiter = new RateLimiter(DEFAULT_RATE_LIMITS, () => now);
    for (let i = 0; i < 200; i++) expect(limiter.take('E09000001', 'la-system', false)).toBeUndefined();
    for (let i = 0; i < 100; i++) expect(limiter.take('E09000001', 'la-system', true)).toBeUndefined();
    expect(limiter.take('E09000001', 'la-system', false)).toBe(60);
    // Another caller of the same organisation, and the same id at another organisation, are not held up.
    expect(limiter.take('E09000001', 'other-system', false)).toBeUndefined();
    expect(limiter.take('E08000025', 'la-system', false)).toBeUndefined();
    now += 60_000;
    expect(limiter.take('E09000001', 'la-system', false)).toBeUndefined();
  });
});
