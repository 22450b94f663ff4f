import type { Claims } from '../core/schemas';

/** Who acts, as the audit trail records it. */
export type Actor = Pick<Claims, 'sub' | 'name' | 'org' | 'role'>;
