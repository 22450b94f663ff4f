/**
 * Helpers shared by the tests (test/) and the benchmarks (bench/): NHS numbers, callers' claims and
 * tokens, the standard councils with registration and plan publishing over HTTP, and seeding. The
 * product code (functions/) never imports it.
 */
export * from './councils';
export * from './nhs-numbers';
export * from './seed';
export * from './tokens';
