import { monotonicFactory } from 'ulid';

/** Time-ordered unique ids (ULIDs) for audit events, accesses and outbox messages. */
export const newId = monotonicFactory();
