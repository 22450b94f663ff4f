/** The visible access history shows at most this many earlier unscheduled-care lookups. */
export const MAX_PREVIOUS_ACCESSES = 25;

export const ACTIVITY_NOTIFYING = 'B0107';
export const ACTIVITY_SILENT = 'B0170';
export const ACTIVITIES = [ACTIVITY_NOTIFYING, ACTIVITY_SILENT] as const;
export type Activity = (typeof ACTIVITIES)[number];

export type LookupKind = 'NOTIFYING' | 'SILENT';

/** B0107 makes a notifying lookup even when B0170 is also held; B0170 alone is a silent read. */
export function lookupKind(activities: readonly string[]): LookupKind | undefined {
  if (activities.includes(ACTIVITY_NOTIFYING)) return 'NOTIFYING';
  if (activities.includes(ACTIVITY_SILENT)) return 'SILENT';
  return undefined;
}

/** Newest first, capped; the input may be in any order. */
export function recentAccesses<T extends { accessedAt: string }>(accesses: readonly T[]): T[] {
  return [...accesses]
    .sort((a, b) => (a.accessedAt < b.accessedAt ? 1 : a.accessedAt > b.accessedAt ? -1 : 0))
    .slice(0, MAX_PREVIOUS_ACCESSES);
}
