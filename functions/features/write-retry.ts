import { WriteConflict } from '../core/errors';

export interface WriteRetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** Whether this conflict is worth another try (default: any). */
  retryable?: (conflict: WriteConflict) => boolean;
  /** What to throw when the tries run out or the conflict is not retryable (default: the conflict). */
  giveUp?: (conflict: WriteConflict) => Error;
}

/**
 * Runs a read-decide-write step again when its write loses a race (a WriteConflict): each try reads
 * the table afresh, so the answer describes what the table holds when it returns.
 */
export async function withWriteRetry<T>(step: () => Promise<T>, options: WriteRetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
      const again = attempt < options.attempts && (options.retryable?.(error) ?? true);
      if (!again) throw options.giveUp?.(error) ?? error;
    }
  }
}
