/**
 * A value built on first use and kept: for schemas and the like that a function may never need, so
 * that importing their module builds nothing (docs/adr/0051).
 */
export const lazily = <T>(build: () => T): (() => T) => {
  let built: T | undefined;
  return () => (built ??= build());
};
