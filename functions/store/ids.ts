import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

const pool = new Uint8Array(4096);
let next = pool.length;

/**
 * ulid's default generator asks the system for one random byte per character; the same
 * cryptographically secure bytes are drawn a pool at a time, as Node's randomUUID does (docs/adr/0003).
 */
export function pooledRandom(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return (pool[next++] as number) / 256;
}

/** Time-ordered unique ids (ULIDs) for audit events (accesses among them) and council messages. */
export const newId = monotonicFactory(pooledRandom);
