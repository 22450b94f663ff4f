/** Data shared by several measurements on the main table, seeded once per run on first use. */
import { seedPlans } from '../../testkit/seed';
import { SEED_RANGES } from './nhs';
import { registerCouncils } from './seed';
import type { BenchContext } from './types';

/** Councils holding the lookup pool's plans. */
export const LOOKUP_COUNCILS = Array.from({ length: 10 }, (_, i) => `BENCH${String(i + 1).padStart(3, '0')}`);

/** By service: the quick mode runs every measure on one, the full mode starts a fresh one for each. */
const seeded = new WeakMap<BenchContext['server'], Promise<void>>();

/**
 * The lookup pool: settings.lookupPool children from SEED_RANGES.lookup with one open plan each, spread
 * over LOOKUP_COUNCILS (registered through the API). Children from SEED_RANGES.absent have nothing.
 */
export function ensureLookupPool(ctx: BenchContext): Promise<void> {
  let done = seeded.get(ctx.server);
  if (!done) {
    done = (async () => {
      ctx.log(
        `Seeding the lookup pool: ${ctx.settings.lookupPool.toLocaleString('en-GB')} children with a plan`,
      );
      await registerCouncils(ctx.server.url, LOOKUP_COUNCILS);
      const rate = await seedPlans(ctx.server.tableName, {
        start: SEED_RANGES.lookup,
        count: ctx.settings.lookupPool,
        councils: LOOKUP_COUNCILS,
      });
      await ctx.server.drained();
      ctx.log(`  ${Math.round(rate)} items/s`);
    })();
    seeded.set(ctx.server, done);
  }
  return done;
}
